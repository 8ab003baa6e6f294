"""JSON-lines logging with a request id carried in a contextvar (and in ``X-Request-ID`` across services)."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import uuid

from strata_kernel.contracts import headers

REQUEST_ID_HEADER = headers.REQUEST_ID
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("strata_request_id", default="-")
#: who called (strata_kernel.access): a deployable's name or "operator"; "-" outside authenticated calls
caller_var: contextvars.ContextVar[str] = contextvars.ContextVar("strata_caller", default="-")


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


class JsonFormatter(logging.Formatter):
    def __init__(self, component: str) -> None:
        super().__init__()
        self._component = component

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "component": self._component,
            "logger": record.name,
            "request_id": request_id_var.get(),
            "msg": record.getMessage(),
        }
        if (caller := caller_var.get()) != "-":
            entry["caller"] = caller
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(component: str, level: str = "INFO", as_json: bool = True) -> None:
    """Configure the root logger once per entrypoint (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    if as_json:
        handler.setFormatter(JsonFormatter(component))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s {component} %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # one INFO line per outgoing request would drown the service's own logs
    logging.getLogger("httpx").setLevel(logging.WARNING)
