"""Per-model change locks: ``local`` (a thread lock plus an fcntl file lock, for one host) or ``redis``; and the
Redis lease that elects the one process running the background loops across hosts."""

from __future__ import annotations

import contextlib
import fcntl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from comparative_eval.errors import LockTimeout, LockUnavailable
from comparative_eval.ports import ModelLocks
from strata_kernel.background import Lease


def _timeout_error(model: str, seconds: float) -> LockTimeout:
    return LockTimeout(
        f"another change of model {model} is in progress (lock not obtained within {seconds:g} s); retry"
    )


class LocalLocks(ModelLocks):
    """Threads of this process queue on a lock per model; processes on this host on ``<dir>/<model>.lock``."""

    def __init__(self, directory: Path, timeout_seconds: float) -> None:
        self._directory = directory
        self._timeout = timeout_seconds
        self._guard = threading.Lock()
        self._thread_locks: dict[str, threading.Lock] = {}

    @contextmanager
    def hold(self, model: str) -> Iterator[None]:
        deadline = time.monotonic() + self._timeout
        with self._guard:
            thread_lock = self._thread_locks.setdefault(model, threading.Lock())
        if not thread_lock.acquire(timeout=self._timeout):
            raise _timeout_error(model, self._timeout)
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            with open(self._directory / f"{model}.lock", "a+b") as handle:
                self._flock(handle, model, deadline)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            thread_lock.release()

    def _flock(self, handle: Any, model: str, deadline: float) -> None:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _timeout_error(model, self._timeout) from None
                time.sleep(0.01)


class RedisLocks(ModelLocks):
    """redis-py's Lock (a token key with expiry): changes serialise across hosts; a dead holder's lock expires."""

    def __init__(self, url: str, timeout_seconds: float, ttl_seconds: float, prefix: str = "strata:comparative_eval"):
        import redis  # the local backend needs no client

        self._client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self._timeout = timeout_seconds
        self._ttl = ttl_seconds
        self._prefix = prefix
        self._errors: tuple[type[BaseException], ...] = (
            redis.exceptions.ConnectionError,
            redis.exceptions.TimeoutError,
        )

    @contextmanager
    def hold(self, model: str) -> Iterator[None]:
        lock = self._client.lock(f"{self._prefix}:lock:{model}", timeout=self._ttl, blocking_timeout=self._timeout)
        try:
            acquired = lock.acquire()
        except self._errors as exc:
            raise LockUnavailable(f"redis lock unavailable: {exc}") from exc
        if not acquired:
            raise _timeout_error(model, self._timeout)
        try:
            yield
        finally:
            # expired under us (held longer than the TTL) or redis gone: nothing left to release
            with contextlib.suppress(Exception):
                lock.release()

    def close(self) -> None:
        self._client.close()


class RedisLease(Lease):
    """Leadership of comparative_eval's background loops across hosts: a redis-py Lock renewed at every round; a
    dead leader's lease expires after ``ttl_seconds`` and another process takes over."""

    def __init__(self, url: str, ttl_seconds: float, prefix: str = "strata:comparative_eval") -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        # shared by the ingest and analysis threads: redis-py's default thread-local token would leave the second
        # thread without one (AttributeError, the loop dead) — found with several workers on the cluster profile
        self._lock = self._client.lock(f"{prefix}:background-lease", timeout=ttl_seconds, blocking=False,
                                       thread_local=False)  # fmt: skip
        self._guard = threading.Lock()  # the ingest and analysis loops share one lease
        self._errors: tuple[type[BaseException], ...] = (
            redis.exceptions.ConnectionError,
            redis.exceptions.TimeoutError,
            redis.exceptions.LockError,
        )

    def try_acquire(self) -> bool:
        with self._guard:
            try:
                if self._lock.owned():
                    self._lock.reacquire()  # back to the full TTL
                    return True
                return bool(self._lock.acquire(blocking=False))
            except self._errors:
                return False  # no Redis, no leadership: the loops stand by until it answers

    def release(self) -> None:
        with self._guard, contextlib.suppress(Exception):
            self._lock.release()

    def close(self) -> None:
        self.release()
        self._client.close()
