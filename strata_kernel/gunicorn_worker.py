"""gunicorn's side of strata_kernel.serving: the gthread worker that times each request's wait for a thread, and
the application that builds a deployable's app in each worker.

Apart from serving.py so that a process served without gunicorn (``serve_in_process``: a sidecar monitor) does not
load gunicorn.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

from strata_kernel.shedding import set_queue_wait


class QueueTimedThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gthread, plus: the time each request waited for a thread, for the app's load shedding; a kept-alive
    connection whose next request is already read is served at once instead of being handed to the poller; and the
    heartbeat to the master at most once a second.

    gthread beats (``os.utime`` of a temporary file) on every turn of its event loop, two or more per request; the
    master only needs one within ``timeout`` (120 s) to know the worker is alive.

    gthread drains a body the app did not read (a refused call) after the answer; the client may have sent its
    next request by then, and one read takes in both. Those bytes sit in the parser's buffer, not on the socket, so
    the poller never sees the connection readable and it stalls until the client gives up (pipelined requests
    alike)."""

    _HEARTBEAT_SECONDS = 1.0
    _last_heartbeat = float("-inf")

    def notify(self) -> None:
        now = time.monotonic()
        if now - self._last_heartbeat >= self._HEARTBEAT_SECONDS:
            self._last_heartbeat = now
            super().notify()

    def enqueue_req(self, conn: Any) -> None:
        conn.strata_enqueued = time.monotonic()
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        enqueued = getattr(conn, "strata_enqueued", None)
        set_queue_wait(time.monotonic() - enqueued if enqueued is not None else 0.0)
        try:
            keepalive = super().handle(conn)
            while keepalive is True and self.alive and _buffered(conn):
                set_queue_wait(0.0)  # it did not queue: it arrived with the request just answered
                keepalive = super().handle(conn)
            return keepalive
        finally:
            set_queue_wait(0.0)


def _buffered(conn: Any) -> bool:
    """Whether the connection's parser holds bytes of a request it has not parsed yet."""
    unreader = getattr(getattr(conn, "parser", None), "unreader", None)
    buffer = getattr(unreader, "buf", None)
    return buffer is not None and buffer.getbuffer().nbytes > 0


class GunicornApp(BaseApplication):  # type: ignore[misc]
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
