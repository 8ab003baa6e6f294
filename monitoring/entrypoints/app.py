"""The sidecar's HTTP surface: /metrics (probe gauges) for Prometheus, /v1/probes for people.

A plain WSGI app (monitoring.entrypoints.wsgi), not the kernel's Flask service app: the sidecar process imports no
web framework (a probe-only sidecar held 49.6 MB RSS with one, against the 40 MB a sidecar may take).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from monitoring.bootstrap import Sidecar, bootstrap
from monitoring.entrypoints.openapi import openapi_document, swagger_page
from monitoring.entrypoints.wsgi import (
    NOT_FOUND,
    Environ,
    PlainApp,
    ReadinessCheck,
    Reply,
    error_reply,
    file_chunks,
    json_reply,
)
from monitoring.settings import Settings
from strata_kernel import background
from strata_kernel.docs_assets import DOCS_ASSETS_PATH, swagger_ui_files
from strata_kernel.settings import load_settings

SIDECAR_EXTENSION = "strata.sidecar"
#: Swagger UI's files by extension: their content type
_ASSET_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".png": "image/png"}


def create_app(settings: Settings | None = None, **overrides: Any) -> PlainApp:
    """Build the sidecar app. The probe loop is registered, not started: the server starts it once serving
    (strata_kernel.serving); ``start_probing(app)`` starts it in this process."""
    settings = settings if settings is not None else load_settings(Settings)
    sidecar = bootstrap(settings, **overrides)
    app = PlainApp("sidecar", sidecar.registry)
    app.extensions[SIDECAR_EXTENSION] = sidecar
    for loop in sidecar.loops:  # the probe loop, and the data monitors' loop of the components that have them
        background.register(app, loop)
    app.add_ops_routes([_probe_loop_running(sidecar)])
    title = f"Strata sidecar monitor ({sidecar.component})"
    app.route("/v1/probes", lambda _environ: json_reply(_probes(sidecar)))
    app.route("/openapi.json", lambda environ: json_reply(openapi_document(title, _root_url(environ))))
    app.route("/docs", lambda _environ: Reply(200, swagger_page(title, DOCS_ASSETS_PATH), "text/html; charset=utf-8"))
    app.files(DOCS_ASSETS_PATH, _docs_asset)
    return app


def start_probing(app: PlainApp) -> None:
    background.start(app)


def _probes(sidecar: Sidecar) -> dict[str, Any]:
    return {
        "component": sidecar.component,
        "target": sidecar.target_url,
        "probes": [
            {
                "probe": result.probe.value,
                "success": result.success,
                "duration_seconds": round(result.duration_seconds, 6),
                "detail": result.detail,
            }
            for result in sidecar.monitor.latest()
        ],
    }


def _probe_loop_running(sidecar: Sidecar) -> ReadinessCheck:
    def probe_loop() -> str | None:
        stopped = [loop.name for loop in sidecar.loops if not loop.running]
        return f"{', '.join(stopped)} not running" if stopped else None

    return probe_loop


def _root_url(environ: Environ) -> str:
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '')}"
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}/"


def _docs_asset(environ: Environ) -> Reply:
    name = environ["PATH_INFO"].removeprefix(f"{DOCS_ASSETS_PATH}/")
    directory = swagger_ui_files()
    content_type = _ASSET_TYPES.get(os.path.splitext(name)[1])
    if directory is None or content_type is None or name not in _asset_names(directory):  # no path leaves the folder
        return error_reply(404, "not_found", NOT_FOUND)
    path = os.path.join(directory, name)
    headers = (("Content-Length", str(os.path.getsize(path))), ("Cache-Control", "public, max-age=86400"))
    return Reply(200, file_chunks(path), content_type, headers)


@cache
def _asset_names(directory: str) -> frozenset[str]:
    return frozenset(os.listdir(directory))
