"""Run a deployable's Flask app under gunicorn (the production WSGI server) from ``python -m <pkg> serve``."""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

from gunicorn.app.base import BaseApplication
from prometheus_client import multiprocess, values

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


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
    preload_modules: Sequence[str] = (),
) -> None:
    """Serve until SIGTERM/SIGINT. gthread workers keep connections alive between services.

    ``preload_modules`` are imported in the master before it forks, so every worker shares them (copy-on-write)
    instead of importing them itself; they must only define code (the app is still built after the fork).
    """
    for module in preload_modules:
        importlib.import_module(module)
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
    if workers > 1:
        options.update(_shared_metrics_options())
    _GunicornApp(app_factory, options).run()


def _shared_metrics_options() -> dict[str, Any]:
    """With several workers, each keeps its own counters: share them through prometheus' multiprocess files,
    so a scrape of ``/metrics`` (answered by any one worker) sums every worker."""
    directory = os.environ.get(MULTIPROC_VARIABLE) or tempfile.mkdtemp(prefix="strata-metrics-")
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    os.environ[MULTIPROC_VARIABLE] = directory

    def post_fork(_server: Any, _worker: Any) -> None:
        # prometheus_client picked its value class at import, before the variable was set
        values.ValueClass = values.MultiProcessValue()

    def child_exit(_server: Any, worker: Any) -> None:
        multiprocess.mark_process_dead(worker.pid)

    return {"post_fork": post_fork, "child_exit": child_exit}
