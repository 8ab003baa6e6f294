"""Run a deployable's Flask app under gunicorn (the production WSGI server) from ``python -m <pkg> serve``, or any
WSGI app from one process on the standard library's server (``serve_in_process``: a sidecar monitor).

The worker is gunicorn's gthread worker that also measures how long each request waited for a thread
(strata_kernel.shedding sheds the ones that waited too long; strata_kernel.gunicorn_worker, imported only when
gunicorn serves: ``serve_in_process`` does without it). Each worker builds its app after the fork and only
then starts the app's background loops (strata_kernel.background); a worker that exits (SIGTERM, or its master
gone) stops them and then runs the app's shutdown callbacks (:func:`add_shutdown_callback`): the
engine flushes its prediction log.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import signal
import socket
import socketserver
import tempfile
import threading
from collections.abc import Callable, Sequence
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from prometheus_client import multiprocess, values

from strata_kernel import background

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

log = logging.getLogger(__name__)


def _start_background(worker: Any) -> None:
    background.start(worker.wsgi)


def _worker_exit(_server: Any, worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    if app is not None:  # else the app failed to build: nothing started
        _stop_app(app)


def _stop_app(app: Any) -> None:
    """Stop the app's background loops (each after its current step), then run its shutdown callbacks."""
    try:
        background.stop(app)
    except Exception:  # the shutdown callbacks (the prediction log's flush) still run
        log.exception("stopping background loops failed")
    for callback in _shutdown_callbacks(app):
        try:
            callback()
        except Exception:  # one failing callback must not keep the others from running
            log.exception("shutdown callback failed")


SHUTDOWN_CALLBACKS = "strata.on_shutdown"


def add_shutdown_callback(app: Any, callback: Callable[[], None]) -> None:
    """Run ``callback`` when the serving worker exits gracefully, after its last request: e.g. flush what is
    buffered in memory. Here, beside the code that runs them, so a server of a plain WSGI app (the sidecar's) does
    not load Flask's service module to find none."""
    app.extensions.setdefault(SHUTDOWN_CALLBACKS, []).append(callback)


def _shutdown_callbacks(app: Any) -> list[Callable[[], None]]:
    return list(getattr(app, "extensions", {}).get(SHUTDOWN_CALLBACKS, []))


def app_from(module: str, *args: Any) -> Callable[[], Any]:
    """``module.create_app(*args)``, imported when called: in the worker after the fork. Pass ``module`` as
    ``preload_modules`` too, so several workers share it; a one-worker master then never imports the app's
    libraries (they were counted again in the worker's RSS: 23-91 MB a service, measured by bench footprint)."""

    def factory() -> Any:
        return importlib.import_module(module).create_app(*args)

    return factory


def serve(
    app_factory: Callable[[], Any],
    *,
    host: str,
    port: int,
    workers: int = 1,
    threads: int = 8,
    preload_modules: Sequence[str] = (),
) -> None:
    """Serve until SIGTERM/SIGINT. gthread workers keep connections alive between services.

    ``preload_modules`` are imported in the master before it forks when there are several workers, so they share
    them (copy-on-write) instead of importing them each; they must only define code (the app is still built after
    the fork). With one worker there is nothing to share: the master stays a bare supervisor (the engine's held
    ~100 MB of its own and ~150 MB counted again in the worker's RSS) and a worker it respawns imports them itself.
    Each worker builds its app after the fork and only then starts the app's background loops
    (strata_kernel.background); they stop when the worker exits.
    """
    from strata_kernel.gunicorn_worker import GunicornApp

    if workers > 1:
        for module in preload_modules:
            importlib.import_module(module)
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "strata_kernel.gunicorn_worker.QueueTimedThreadWorker",
        "worker_exit": _worker_exit,
        "threads": threads,
        "keepalive": 30,
        "timeout": 120,
        "graceful_timeout": 5,
        "accesslog": None,
        "loglevel": "warning",
        "post_worker_init": _start_background,
    }
    if workers > 1:
        options.update(_shared_metrics_options())
    GunicornApp(app_factory, options).run()


def serve_in_process(app_factory: Callable[[], Any], *, host: str, port: int) -> None:
    """Serve until SIGTERM/SIGINT from this one process: no master, no fork (the standard library's WSGI server, a
    thread per connection).

    For a small app whose memory matters more than gunicorn's worker supervision (a sidecar monitor: a second
    process would double its footprint; supervisord restarts it if it dies). Any WSGI app: the sidecar's is a plain
    one, so that the process loads no web framework (werkzeug's server would load Werkzeug). Builds the app, starts
    its background loops, serves; on a stop signal stops serving, then its loops, then runs its shutdown callbacks.
    """
    app = app_factory()
    server = make_threaded_server(host, port, app)

    def stop(_signum: int, _frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()  # shutdown() waits for serve_forever

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    background.start(app)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        _stop_app(app)


class _ThreadedWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a connection left open does not hold the process up at exit


class _ThreadedWSGIServer6(_ThreadedWSGIServer):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No line per request (gunicorn has no access log either)."""

    def log_error(self, format: str, *args: Any) -> None:
        log.warning("%s: " + format, self.address_string(), *args)  # a request line that could not be read


def make_threaded_server(host: str, port: int, app: Any) -> WSGIServer:
    """A WSGI server on ``host:port`` (``port`` 0: a free one, read back from ``server.server_port``) answering each
    connection in a thread of its own; IPv6 when ``host`` is an IPv6 address."""
    server_class = _ThreadedWSGIServer6 if ":" in host else _ThreadedWSGIServer
    server = server_class((host, port), _QuietHandler)
    server.set_app(app)
    return server


def _shared_metrics_options() -> dict[str, Any]:
    """With several workers, each keeps its own counters: share them through prometheus' multiprocess files,
    so a scrape of ``/metrics`` (answered by any one worker) sums every worker. A directory made here is removed
    when the server exits."""
    given = os.environ.get(MULTIPROC_VARIABLE)
    directory = given or tempfile.mkdtemp(prefix="strata-metrics-")
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, mode=0o700)
    os.environ[MULTIPROC_VARIABLE] = directory

    def post_fork(_server: Any, _worker: Any) -> None:
        # prometheus_client picked its value class at import, before the variable was set
        values.ValueClass = values.MultiProcessValue()

    def child_exit(_server: Any, worker: Any) -> None:
        multiprocess.mark_process_dead(worker.pid)

    def on_exit(_server: Any) -> None:
        if not given:
            shutil.rmtree(directory, ignore_errors=True)

    return {"post_fork": post_fork, "child_exit": child_exit, "on_exit": on_exit}
