"""Loading the configured models off the request path, and saying honestly how far it got.

Each gunicorn worker loads its models after the fork (nothing loaded crosses a fork). ``/readyz`` may be answered
by any worker, so with several workers each one writes its progress to a small board (one JSON file per worker
under ``<var>/run/inference_engine/<gunicorn master pid>/``) and readiness is the board's: ready only when every
live worker is, with the slowest one's progress shown. One worker alone keeps its state in memory.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from inference_engine.serving.routing_table import RoutingTable
from strata_kernel.background import LoopDone
from strata_kernel.errors import NotFound, StrataError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerProgress:
    state: str  # loading | ready | failed
    step: str
    done: int
    total: int
    problem: str | None = None


class LoadProgress:
    """This worker's loading state (thread-safe), published to the board when there is one."""

    def __init__(self, total: int, board: WorkerBoard | None = None) -> None:
        self._lock = threading.Lock()
        self._board = board
        self._state = WorkerProgress("loading", "starting", 0, total)
        self._publish()

    def update(self, **changes: Any) -> None:
        with self._lock:
            self._state = WorkerProgress(**{**asdict(self._state), **changes})
        self._publish()

    def current(self) -> WorkerProgress:
        return self._state

    def _publish(self) -> None:
        if self._board is not None:
            self._board.write(self._state)


class WorkerBoard:
    """One file per worker of one gunicorn master; readers ignore workers that are gone."""

    def __init__(self, directory: Path, expected_workers: int, pid: int | None = None) -> None:
        self.directory = directory
        self.expected = expected_workers
        self.pid = pid if pid is not None else os.getpid()

    @classmethod
    def for_master(cls, run_dir: Path, expected_workers: int) -> WorkerBoard:
        return cls(run_dir / "inference_engine" / str(os.getppid()), expected_workers)

    def write(self, progress: WorkerProgress) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{self.pid}.json"
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(progress)))
        temporary.replace(target)  # a reader never sees half a file

    def workers(self) -> dict[int, WorkerProgress]:
        found: dict[int, WorkerProgress] = {}
        for path in self.directory.glob("*.json"):
            pid = int(path.stem) if path.stem.isdigit() else -1
            if not _alive(pid):
                continue
            with contextlib.suppress(OSError, ValueError, TypeError):
                found[pid] = WorkerProgress(**json.loads(path.read_text()))
        return found


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Readiness:
    """``/readyz`` of the engine: the models of every worker, and the progress to show meanwhile."""

    def __init__(self, service: RoutingTable, progress: LoadProgress, board: WorkerBoard | None) -> None:
        self._service = service
        self._progress = progress
        self._board = board

    def problem(self) -> str | None:
        own = self._service.readiness_problem()
        if own is not None or self._board is None:
            return own
        workers = self._board.workers()
        waiting = [p for p in workers.values() if p.state != "ready"]
        if len(workers) < self._board.expected:
            return f"{len(workers)} of {self._board.expected} workers started"
        if waiting:
            return f"{len(waiting)} of {len(workers)} workers still loading: {waiting[0].step}"
        return None

    def report(self) -> dict[str, Any]:
        """The least advanced worker's progress (what the wait is waiting for)."""
        states = list(self._board.workers().values()) if self._board is not None else []
        states.append(self._progress.current())
        failed = [s for s in states if s.state == "failed"]
        slowest = failed[0] if failed else min(states, key=lambda s: (s.state == "ready", s.done))
        body = asdict(slowest)
        body["state"] = "failed" if failed else "loading"
        return body


class ModelLoading:
    """The model loader's step (run by a strata_kernel.background loop): load every configured model, reporting
    each step; the loop ends once all are served and retries after ``load_retry_seconds`` until then.

    A model the registry does not know (no such model or alias) is reported as ``failed``: waiting will not
    make it appear, though the loader keeps retrying (someone may register and deploy it meanwhile).
    """

    def __init__(self, service: RoutingTable, progress: LoadProgress) -> None:
        self._service = service
        self._progress = progress

    def step(self) -> None:
        if self._load_all():
            raise LoopDone

    def _load_all(self) -> bool:
        names = self._service.model_names
        for position, name in enumerate(names):
            self._progress.update(state="loading", step=f"loading model {name} ({position + 1} of {len(names)})",
                                  done=position, problem=None)  # fmt: skip
            started = time.perf_counter()
            try:
                self._service.load_model(name)
            except StrataError as exc:
                state = "failed" if isinstance(exc, NotFound) else "loading"
                self._progress.update(state=state, step=f"model {name}: {exc.message}", problem=exc.message)
                return False
            log.info("model %s ready in %.1fs", name, time.perf_counter() - started)
        self._progress.update(state="ready", step="all models loaded", done=len(names), problem=None)
        return True
