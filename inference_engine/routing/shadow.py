"""A small executor for shadow scoring: bounded, so a slow candidate never piles up work.

The request thread only submits; when ``max_queue`` copies already wait, the copy is skipped (the caller counts it).
A task's failure is the task's business: the pool only guarantees a worker never dies of one. The pool is the
standard library's (threads start on the first submit, after the fork).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

log = logging.getLogger(__name__)

Task = Callable[[], None]


class ShadowExecutor:
    def __init__(self, workers: int = 1, max_queue: int = 100) -> None:
        workers = max(workers, 1)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="shadow")
        self._slots = threading.BoundedSemaphore(max_queue + workers)  # waiting + running copies
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    def submit(self, task: Task) -> bool:
        """Queue ``task``; False (and nothing runs) when the queue is full."""
        if not self._slots.acquire(blocking=False):
            return False
        future = self._pool.submit(_guarded, task)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)
        return True

    def join(self, timeout: float = 5.0) -> bool:
        """Wait until every queued task has run (tests, shutdown); False on time-out."""
        with self._lock:
            pending = list(self._pending)
        return not wait(pending, timeout=timeout).not_done

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)
        self._slots.release()


def _guarded(task: Task) -> None:
    try:
        task()
    except Exception:  # a shadow must never take a worker down
        log.exception("shadow task failed")
