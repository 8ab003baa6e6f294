"""The demo help centre: a static web site (``data_collection/helpcentre/site``) with the ops routes every
Strata service has (/healthz, /metrics...). It stands in for the company's real help centre that the crawl reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apiflask import APIFlask
from flask import Response, send_from_directory

from data_collection.settings import Settings
from strata_kernel.errors import ConfigurationError
from strata_kernel.service import create_service_app


def create_helpcentre_app(settings: Settings | None = None, *, site_dir: Path | None = None) -> APIFlask:
    settings = settings if settings is not None else Settings()
    root = (site_dir if site_dir is not None else settings.help_centre_site()).resolve()
    if not (root / "index.html").is_file():
        raise ConfigurationError(f"help_centre_site_dir: {root} has no index.html")
    app = create_service_app(
        "help_centre", title="Strata demo help centre", description="The static help centre the crawler reads."
    )

    @app.get("/")
    @app.doc(hide=True)
    def index() -> Response:
        return send_from_directory(root, "index.html")

    @app.get("/<path:path>")
    @app.doc(hide=True)
    def page(path: str) -> Any:
        if path.endswith("/"):
            path += "index.html"
        # send_from_directory refuses paths escaping root and answers 404 for missing files
        return send_from_directory(root, path)

    return app
