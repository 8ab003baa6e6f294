"""The sidecar's OpenAPI document, written out (no schema library in the sidecar process), and its Swagger UI page.

``tests/monitoring/test_sidecar_unit.py`` checks that every route the app answers is described and that the
described answers are the ones it gives.
"""

from __future__ import annotations

import json
from typing import Any

_DESCRIPTION = "Probes one component's /healthz and /readyz from its own host and exports the outcomes."


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _status(*values: str) -> dict[str, Any]:
    return {"type": "object", "required": ["status"], "properties": {"status": {"type": "string", "enum": [*values]}}}


_NOT_READY = {
    "type": "object",
    "required": ["status", "reasons"],
    "properties": {
        "status": {"type": "string", "enum": ["not ready"]},
        "reasons": {"type": "array", "items": {"type": "string"}, "description": "What is not running."},
    },
}
_PROBE = {
    "type": "object",
    "required": ["probe", "success", "duration_seconds", "detail"],
    "properties": {
        "probe": {"type": "string", "enum": ["healthz", "readyz"]},
        "success": {"type": "boolean", "description": "The component answered HTTP 200."},
        "duration_seconds": {"type": "number", "minimum": 0},
        "detail": {"type": "string", "description": "e.g. HTTP 200, HTTP 503: <its reasons>, connection refused"},
    },
}
_PROBES = {
    "type": "object",
    "required": ["component", "target", "probes"],
    "properties": {
        "component": {"type": "string", "description": "The component watched."},
        "target": {"type": "string", "description": "Its base URL, probed at /healthz and /readyz."},
        "probes": {"type": "array", "items": _PROBE, "description": "Empty until the first round of probes."},
    },
}
_PATHS = {
    "/healthz": {"get": {"tags": ["ops"], "summary": "Liveness: the process answers.",
                         "responses": {"200": _json(_status("ok"), "Alive.")}}},
    "/readyz": {"get": {"tags": ["ops"], "summary": "Readiness: the probe loop (and the data monitors) run.",
                        "responses": {"200": _json(_status("ready"), "Ready."),
                                      "503": _json(_NOT_READY, "Not ready: a loop is not running.")}}},
    "/v1/probes": {"get": {"summary": "Latest outcome of each probe of the watched component.",
                           "responses": {"200": _json(_PROBES, "The latest round of probes.")}}},
}  # fmt: skip


def openapi_document(title: str, server_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1.0", "description": _DESCRIPTION},
        "servers": [{"url": server_url}],
        "tags": [{"name": "ops", "description": "What every Strata process answers."}],
        "paths": _PATHS,
    }


def swagger_page(title: str, assets_path: str) -> bytes:
    """Swagger UI on ``/openapi.json``, loading its files from ``assets_path`` (this process: works offline).
    ``title`` is the sidecar's own (a known component's name), not the caller's text."""
    config = json.dumps({"url": "/openapi.json", "dom_id": "#swagger-ui", "deepLinking": True, "validatorUrl": None})
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>{title} 1.0 - Swagger UI</title>
  <link rel="stylesheet" type="text/css" href="{assets_path}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{assets_path}/favicon-32x32.png">
  <style>html {{ box-sizing: border-box; overflow-y: scroll; }} body {{ margin: 0; background: #fafafa; }}</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{assets_path}/swagger-ui-bundle.js"></script>
  <script src="{assets_path}/swagger-ui-standalone-preset.js"></script>
  <script>
    window.onload = function () {{
      const config = {config};
      config.presets = [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset];
      config.plugins = [SwaggerUIBundle.plugins.DownloadUrl];
      config.layout = "BaseLayout";
      SwaggerUIBundle(config);
    }};
  </script>
</body>
</html>
""".encode()
