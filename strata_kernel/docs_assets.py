"""Where ``/docs`` loads Swagger UI's own files from: the Flask service app (strata_kernel.service) and the sidecar's
plain WSGI app, which must not load Flask, both serve them there (so /docs works offline)."""

from __future__ import annotations

#: the path under which Swagger UI's files are served (APIFlask's default is a CDN: /docs was blank offline)
DOCS_ASSETS_PATH = "/docs-assets"
