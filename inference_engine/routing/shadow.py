"""A small background executor for shadow scoring: bounded, so a slow candidate never piles up work.

The request thread only enqueues; when the queue is full the copy is skipped (the caller counts it).
A task's failure is the task's business: the worker only guarantees it never dies of one.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

Task = Callable[[], None]


class ShadowExecutor:
    def __init__(self, workers: int = 1, max_queue: int = 100) -> None:
        self._workers = max(workers, 1)
        self._queue: queue.Queue[Task] = queue.Queue(maxsize=max_queue)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, task: Task) -> bool:
        """Queue ``task``; False (and nothing runs) when the queue is full."""
        if not self._threads:  # started on first use: a model never shadowed runs no thread
            self._start()
        try:
            self._queue.put_nowait(task)
        except queue.Full:
            return False
        return True

    def join(self, timeout: float = 5.0) -> bool:
        """Wait until every queued task has run (tests, shutdown); False on time-out."""
        with self._queue.all_tasks_done:
            return self._queue.all_tasks_done.wait_for(lambda: not self._queue.unfinished_tasks, timeout)

    def _start(self) -> None:
        with self._lock:
            while len(self._threads) < self._workers:
                thread = threading.Thread(target=self._run, name=f"shadow-{len(self._threads)}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _run(self) -> None:
        while True:
            task = self._queue.get()
            try:
                task()
            except Exception:  # a shadow must never take a worker down
                log.exception("shadow task failed")
            finally:
                self._queue.task_done()
