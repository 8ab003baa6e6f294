"""Wait until services report ready on ``/readyz``, showing what each one is still doing.

There is no fixed deadline: a start-up takes what the machine allows. The wait gives up only when it cannot
succeed — a process exits or restarts, a service reports ``failed`` — or when a service shows no progress
(its answer, its step or its count of loaded items unchanged) for ``stall_seconds``, scaled by the machine's
load (load average per core, at least 1): a busy machine makes everything slower, not wrong.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from strata_cli.supervisor import ProgramState

#: supervisord states of a program that will not become ready by waiting
_DEAD_STATES = frozenset({"EXITED", "FATAL", "BACKOFF", "STOPPED"})


class NotReady(RuntimeError):
    pass


@dataclass
class Answer:
    """One ``/readyz`` answer: state is ``starting`` (not answering yet), ``loading``, ``failed`` or ``ready``."""

    state: str
    detail: str
    progress: dict[str, Any] | None = None

    @property
    def progress_key(self) -> tuple[object, ...]:
        progress = self.progress or {}
        return self.state, self.detail, progress.get("step"), progress.get("done")


def ask(url: str, client: httpx.Client, ready_path: str = "/readyz") -> Answer:
    try:
        response = client.get(f"{url}{ready_path}", timeout=2.0)
    except httpx.TransportError:
        return Answer("starting", "not answering yet")
    if response.status_code == 200:
        return Answer("ready", "ready")
    try:
        body = response.json()
    except ValueError:
        body = {}
    reasons = "; ".join(map(str, body.get("reasons") or [])) or f"HTTP {response.status_code}"
    progress = body.get("progress") if isinstance(body.get("progress"), dict) else None
    if progress is not None:
        detail = str(progress.get("step") or reasons)
        return Answer("failed" if progress.get("state") == "failed" else "loading", detail, progress)
    return Answer("loading", reasons)


def readiness(url: str, client: httpx.Client) -> tuple[bool, str]:
    answer = ask(url, client)
    return answer.state == "ready", "not answering" if answer.state == "starting" else answer.detail


def load_factor() -> float:
    """The load average per core, at least 1 (how much slower than idle this machine runs now)."""
    try:
        return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    except OSError:
        return 1.0


@dataclass
class _Pending:
    url: str
    ready_path: str = "/readyz"
    answer: Answer = field(default_factory=lambda: Answer("starting", "not started yet"))
    changed_at: float = field(default_factory=time.monotonic)
    first_pid: int = 0


def wait_ready(
    urls: Mapping[str, str],
    *,
    stall_seconds: float,
    processes: Mapping[str, subprocess.Popen[bytes]] | None = None,
    programs: Callable[[], Mapping[str, ProgramState] | None] | None = None,
    console: Console | None = None,
    ready_paths: Mapping[str, str] | None = None,
) -> float:
    """Poll every URL until all are ready; returns the seconds it took. Raises :class:`NotReady` with one line.

    ``processes``: child processes that must stay alive; ``programs``: supervisord's view of its programs (a
    program that exits or restarts during start-up fails the start); ``console``: where progress is shown;
    ``ready_paths``: a process's readiness path when it is not ``/readyz`` (Prometheus: ``/-/ready``).
    """
    started = time.monotonic()
    paths = ready_paths or {}
    pending = {name: _Pending(url, paths.get(name, "/readyz")) for name, url in urls.items()}
    done: dict[str, float] = {}
    view = _View(console, pending, done, started)
    with httpx.Client() as client, view:
        while pending:
            for name, entry in list(pending.items()):
                answer = ask(entry.url, client, entry.ready_path)
                if answer.progress_key != entry.answer.progress_key:
                    entry.changed_at = time.monotonic()
                    view.changed(name, answer)
                entry.answer = answer
                if answer.state == "ready":
                    done[name] = time.monotonic() - started
                    del pending[name]
                elif answer.state == "failed":
                    raise NotReady(f"{name} cannot become ready: {answer.detail}")
            _check_processes(processes, programs, pending)
            _check_stalls(pending, stall_seconds)
            view.refresh()
            if pending:
                time.sleep(0.3)
    return time.monotonic() - started


def _check_processes(
    processes: Mapping[str, subprocess.Popen[bytes]] | None,
    programs: Callable[[], Mapping[str, ProgramState] | None] | None,
    pending: Mapping[str, _Pending],
) -> None:
    for name, process in (processes or {}).items():
        if process.poll() is not None:
            raise NotReady(f"{name} exited with code {process.returncode} before it was ready")
    states = programs() if programs is not None else None
    for name, entry in pending.items():
        state = (states or {}).get(name)
        if state is None:
            continue
        if state.state in _DEAD_STATES:
            raise NotReady(f"{name} stopped during start-up ({state.state.lower()}: {state.description})")
        if state.pid:
            if entry.first_pid and state.pid != entry.first_pid:
                raise NotReady(
                    f"{name} exited during start-up and was restarted (pid {entry.first_pid} -> {state.pid})"
                )
            entry.first_pid = state.pid


def _check_stalls(pending: Mapping[str, _Pending], stall_seconds: float) -> None:
    now = time.monotonic()
    factor = load_factor()
    allowed = stall_seconds * factor
    for name, entry in pending.items():
        if now - entry.changed_at > allowed:
            raise NotReady(
                f"{name} made no progress for {now - entry.changed_at:.0f}s ({entry.answer.detail}); allowed "
                f"{allowed:.0f}s = STRATA_READY_TIMEOUT_SECONDS {stall_seconds:.0f} x load {factor:.1f}"
            )


class _View:
    """A live table on a terminal; elsewhere (logs, CI) one line per change."""

    def __init__(
        self, console: Console | None, pending: Mapping[str, _Pending], done: Mapping[str, float], started: float
    ) -> None:
        self._console = console
        self._pending = pending
        self._done = done
        self._started = started
        self._live = Live(console=console, refresh_per_second=4, transient=True) if _is_terminal(console) else None

    def __enter__(self) -> _View:
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def changed(self, name: str, answer: Answer) -> None:
        if self._console is not None and self._live is None:
            elapsed = time.monotonic() - self._started
            self._console.print(f"  [{elapsed:5.1f}s] {name}: {escape(answer.detail)}", soft_wrap=True)

    def refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._table())

    def _table(self) -> Table:
        now = time.monotonic()
        waited = now - self._started
        table = Table(title=f"Waiting for {len(self._pending)} processes ({waited:.0f}s, load x{load_factor():.1f})")
        for column in ("process", "state", "doing", "for"):
            table.add_column(column)
        for name, entry in self._pending.items():
            style = {"starting": "yellow", "loading": "cyan"}.get(entry.answer.state, "white")
            table.add_row(name, f"[{style}]{entry.answer.state}[/]", escape(entry.answer.detail),
                          f"{now - entry.changed_at:.0f}s")  # fmt: skip
        table.caption = f"ready: {len(self._done)}"
        return table


def _is_terminal(console: Console | None) -> bool:
    return console is not None and console.is_terminal
