"""The UI's one navigation bar: every page is listed here once, and every template includes ``_nav.html``.

To add a page: register its route, add a :class:`Page` to ``PAGES`` (in the order it should appear) and put
``{% include "_nav.html" %}`` in its template's header. ``/models/etd`` is in the "Models" section.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, request


@dataclass(frozen=True)
class Page:
    path: str
    label: str
    #: who the page is for (its link's tooltip)
    audience: str

    def active(self, path: str) -> bool:
        return path == self.path or (self.path != "/" and path.startswith(self.path + "/"))


PAGES: list[Page] = [
    Page("/", "ETD", "customers: delivery time of a basket"),
    Page("/help", "Help", "customers: the help-centre chatbot"),
    Page("/features", "Features", "data scientists: the feature directory and its freshness"),
    Page("/models", "Models", "operators: every model, its versions, deployments and quality"),
    Page("/lake", "Lake", "data scientists: every lake table, its profile, versions and lineage"),
    Page("/operations", "Operations", "on-call: load, errors, latency, drift and the alerts firing now"),
]


def install_navigation(app: Flask) -> None:
    """Templates get ``navigation``: each page with whether it is the current one."""

    @app.context_processor
    def _navigation() -> dict[str, Any]:
        path = request.path
        return {"navigation": [{"page": page, "current": page.active(path)} for page in PAGES]}
