"""Where ``/docs`` loads Swagger UI's own files from: the Flask service app (strata_kernel.service) and the sidecar's
plain WSGI app, which must not load Flask, both serve them there (so /docs works offline)."""

from __future__ import annotations

import importlib.util
import os
from functools import cache

#: the path under which Swagger UI's files are served (APIFlask's default is a CDN: /docs was blank offline)
DOCS_ASSETS_PATH = "/docs-assets"


@cache
def swagger_ui_files() -> str | None:
    """The folder of Swagger UI's files that the flask-swagger-ui package ships, found without importing it (it
    imports Flask); None when the package is missing."""
    spec = importlib.util.find_spec("flask_swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.join(next(iter(spec.submodule_search_locations)), "dist")
