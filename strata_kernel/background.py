"""The one way a process runs background work: a :class:`BackgroundLoop` per job, started after fork.

A loop calls its ``step`` in a daemon thread: again at once while the step says more work is waiting, else after
``interval_seconds``; a step that raises is logged (with its traceback the first time in a row, one line after)
and retried after ``error_interval_seconds``; :class:`LoopDone` ends the loop for good. Every outcome is counted
(``strata_<component>_background_runs_total{loop, outcome}``) and timed.

A loop that must run once in a deployment, not once per gunicorn worker, holds a :class:`Lease`: only the holder
runs its step; the others stand by and take over when it goes away.

Services register their loops on the app (:func:`register`); ``strata_kernel.serving.serve`` starts them in each
worker *after* the fork (threads do not survive a fork) and stops them when the worker exits. Nothing starts at
import or while an app is being built; tests start what they need with :func:`start`.
"""

from __future__ import annotations

import abc
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from strata_kernel.metrics import LATENCY_BUCKETS, metric_name

log = logging.getLogger(__name__)

#: a step returns True when more work is waiting (run again at once), False/None to wait for the interval
Step = Callable[[], bool | None]
EXTENSION = "strata.background"


class LoopDone(Exception):
    """Raised by a step whose job is finished (e.g. every model is loaded): the loop ends."""


class Lease(abc.ABC):
    """Leadership of a job among processes: held by at most one at a time, lost when its holder dies."""

    @abc.abstractmethod
    def try_acquire(self) -> bool:
        """Take or renew the lease without waiting; True when this process holds it now."""

    @abc.abstractmethod
    def release(self) -> None:
        """Give the lease up (no-op when not held)."""


class FileLease(Lease):
    """An exclusive ``flock`` on a file: one holder per host, released by the kernel when the holder dies.

    Shared by the loops of one process (they lead together); other processes on the host stand by.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._handle: IO[bytes] | None = None
        self._lock = threading.Lock()

    def try_acquire(self) -> bool:
        with self._lock:
            if self._handle is not None:
                return True
            self._path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self._path, "a+b")  # noqa: SIM115 - held as long as the lease
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            handle.truncate(0)
            handle.write(f"{os.getpid()}\n".encode())
            handle.flush()
            self._handle = handle
            return True

    def release(self) -> None:
        with self._lock:
            if self._handle is not None:
                fcntl.flock(self._handle, fcntl.LOCK_UN)
                self._handle.close()
                self._handle = None


@dataclass(frozen=True)
class LoopMetrics:
    """Outcomes and durations of a process's loops, by loop name (one set per registry)."""

    runs: Counter
    seconds: Histogram
    leading: Gauge

    @classmethod
    def create(cls, component: str, registry: CollectorRegistry) -> LoopMetrics:
        return cls(
            runs=Counter(metric_name(component, "background_runs_total"),
                         "Steps of background loops, by loop and outcome (ok, error, standby).", ["loop", "outcome"],
                         registry=registry),
            seconds=Histogram(metric_name(component, "background_step_seconds"), "Duration of a background step.",
                              ["loop"], buckets=LATENCY_BUCKETS, registry=registry),
            leading=Gauge(metric_name(component, "background_leading"),
                          "1 while this process holds the loop's lease (or the loop needs none).", ["loop"],
                          registry=registry, multiprocess_mode="livemax"),
        )  # fmt: skip


class BackgroundLoop:
    def __init__(
        self,
        name: str,
        step: Step,
        interval_seconds: float,
        *,
        error_interval_seconds: float | None = None,
        wait_first: bool = False,
        lease: Lease | None = None,
        metrics: LoopMetrics | None = None,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self._step = step
        self._interval = interval_seconds
        self._error_interval = interval_seconds if error_interval_seconds is None else error_interval_seconds
        self._wait_first = wait_first
        self._lease = lease
        self._metrics = metrics
        self._on_stop = on_stop
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._failing: str | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread (idempotent: a second call while it runs does nothing)."""
        with self._start_lock:
            if self.running:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self.run, args=(self._stop,), name=self.name, daemon=True)
            self._thread.start()

    def stop(self, timeout_seconds: float = 5.0) -> None:
        """Stop the thread (after its current step), then run ``on_stop`` and give the lease up."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_seconds)
        self._thread = None
        try:
            if self._on_stop is not None:
                self._on_stop()
        finally:
            if self._lease is not None:
                self._lease.release()

    def run(self, stop: threading.Event) -> None:
        """Loop in the calling thread until ``stop`` is set (a worker entrypoint's main loop uses this)."""
        if self._wait_first and stop.wait(self._interval):
            return
        while not stop.is_set():
            try:
                pause = self.run_once()
            except LoopDone:
                return
            if pause and stop.wait(pause):
                return
            if not pause:
                # more work waits, but a busy step holds the GIL: hand it back between rounds, so a request thread
                # waits at most one round rather than the interpreter's 5 ms switch interval
                time.sleep(0)

    def run_once(self) -> float:
        """One round in the calling thread; returns how long to wait before the next one. Raises LoopDone."""
        if self._lease is not None and not self._lease.try_acquire():
            self._observe("standby", 0.0, leading=False)
            return self._interval
        started = time.perf_counter()
        try:
            more = self._step()
        except LoopDone:
            raise
        except Exception as exc:
            self._observe("error", time.perf_counter() - started)
            self._log_failure(exc)
            return self._error_interval
        self._observe("ok", time.perf_counter() - started)
        if self._failing is not None:
            log.info("background loop %s recovered", self.name)
            self._failing = None
        return 0.0 if more else self._interval

    def _log_failure(self, exc: Exception) -> None:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if self._failing is None:
            log.exception("background loop %s failed (retrying): %s", self.name, reason)
        elif reason != self._failing:
            log.warning("background loop %s still failing: %s", self.name, reason)
        self._failing = reason

    def _observe(self, outcome: str, seconds: float, leading: bool = True) -> None:
        if self._metrics is None:
            return
        self._metrics.runs.labels(self.name, outcome).inc()
        self._metrics.leading.labels(self.name).set(1 if leading else 0)
        if outcome != "standby":
            self._metrics.seconds.labels(self.name).observe(seconds)


class Background:
    """The loops of one app, started and stopped together."""

    def __init__(self) -> None:
        self.loops: list[BackgroundLoop] = []

    def add(self, loop: BackgroundLoop) -> BackgroundLoop:
        self.loops.append(loop)
        return loop

    def start(self) -> None:
        for loop in self.loops:
            loop.start()

    def stop(self) -> None:
        for loop in reversed(self.loops):
            loop.stop()


def register(app: Any, loop: BackgroundLoop) -> BackgroundLoop:
    """Add ``loop`` to the app's background work (started after fork by the server, or by :func:`start`)."""
    background: Background = app.extensions.setdefault(EXTENSION, Background())
    return background.add(loop)


def start(app: Any) -> None:
    """Start the app's loops in this process (the server does it in each worker after the fork)."""
    background: Background | None = app.extensions.get(EXTENSION)
    if background is not None:
        background.start()


def stop(app: Any) -> None:
    background: Background | None = app.extensions.get(EXTENSION)
    if background is not None:
        background.stop()
