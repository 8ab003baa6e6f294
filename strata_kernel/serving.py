"""Run a deployable's Flask app under gunicorn (the production WSGI server) from ``python -m <pkg> serve``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication


class _GunicornApp(BaseApplication):  # type: ignore[misc]
    def __init__(self, app_factory: Callable[[], Any], options: dict[str, Any]) -> None:
        self._factory = app_factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Built in each worker after fork: no engine, client or model crosses a fork.
        return self._factory()


def serve(
    app_factory: Callable[[], Any],
    *,
    host: str,
    port: int,
    workers: int = 1,
    threads: int = 8,
    post_worker_init: Callable[[Any], None] | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT. gthread workers keep connections alive between services."""
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "keepalive": 30,
        "timeout": 120,
        "graceful_timeout": 5,
        "accesslog": None,
        "loglevel": "warning",
    }
    if post_worker_init is not None:
        options["post_worker_init"] = post_worker_init
    _GunicornApp(app_factory, options).run()
