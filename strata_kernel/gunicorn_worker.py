"""gunicorn's side of strata_kernel.serving: the gthread worker that times each request's wait for a thread, and
the application that builds a deployable's app in each worker.

Apart from serving.py so that a process served without gunicorn (``serve_in_process``: a sidecar monitor) does not
load gunicorn.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

from strata_kernel.shedding import set_queue_wait


class QueueTimedThreadWorker(ThreadWorker):
    """gthread, plus: the time each request waited for a thread, for the app's load shedding; a kept-alive
    connection whose next request is already read, or comes within a few milliseconds while no other request waits
    for a thread, is served by the same thread instead of being handed to the poller; and the heartbeat to the
    master at most once a second.

    The hand-off of a kept-alive connection (back to the main thread through a pipe, re-registered with the poller,
    unregistered when it is readable again, submitted to the pool) cost about a fifth of a small request's server
    CPU (one service app, interleaved: 585 -> 465 us). A thread lingers on its connection only while the worker has
    no more connections than threads (with more, at concurrency 32, lingering threads starved the others: -11%
    req/s) and the pool's queue is empty, which it looks at again every ``_LINGER_SLICE_SECONDS``: a request that
    arrives on another connection waits at most that long for the thread.

    gthread beats (``os.utime`` of a temporary file) on every turn of its event loop, two or more per request; the
    master only needs one within ``timeout`` (120 s) to know the worker is alive.

    gthread drains a body the app did not read (a refused call) after the answer; the client may have sent its
    next request by then, and one read takes in both. Those bytes sit in the parser's buffer, not on the socket, so
    the poller never sees the connection readable and it stalls until the client gives up (pipelined requests
    alike)."""

    _LINGER_SECONDS = 0.010  # an internal hop's next request at concurrency 1 comes ~6-7 ms after its answer
    _LINGER_SLICE_SECONDS = 0.010
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
            while keepalive is True and self.alive and (_buffered(conn) or self._next_request_comes(conn)):
                set_queue_wait(0.0)  # it did not queue: it came on the connection this thread holds
                keepalive = super().handle(conn)
            return keepalive
        finally:
            set_queue_wait(0.0)

    def _next_request_comes(self, conn: Any) -> bool:
        """Wait up to ``_LINGER_SECONDS`` for the connection to become readable (a request, or the client closing
        it); give up as soon as another request waits for a thread, or the worker is stopping."""
        if self.nr_conns > self.cfg.threads:  # some connection could find every thread held: use the poller
            return False
        deadline = time.monotonic() + self._LINGER_SECONDS
        try:
            watched = select.poll()
            watched.register(conn.sock, select.POLLIN)
            while self.alive and not _others_waiting(self.tpool):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                if watched.poll(1000 * min(remaining, self._LINGER_SLICE_SECONDS)):
                    return True
        except OSError:  # closed under us: the poller's path decides what happens to it
            return False
        return False


def _others_waiting(pool: Any) -> bool:
    """Whether the thread pool holds submitted work no thread has taken yet."""
    queue = getattr(pool, "_work_queue", None)
    return queue is None or not queue.empty()


def _buffered(conn: Any) -> bool:
    """Whether the connection's parser holds bytes of a request it has not parsed yet."""
    unreader = getattr(getattr(conn, "parser", None), "unreader", None)
    buffer = getattr(unreader, "buf", None)
    return buffer is not None and buffer.getbuffer().nbytes > 0


class GunicornApp(BaseApplication):
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
