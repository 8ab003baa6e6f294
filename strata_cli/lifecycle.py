"""Start and stop every Strata process as one unit.

supervisord supervises the processes; this module makes sure none of them outlives the run that started it:

- every process of a run carries ``STRATA_RUN_ID`` in its environment (supervisord passes its environment to its
  programs, and they to theirs: gunicorn workers, Spark JVMs), so the run's processes can be found whatever their
  parent has become (re-parented to PID 1 when supervisord dies first);
- supervisord dies with the CLI (``PR_SET_PDEATHSIG``): a killed ``strata run`` still stops its programs;
- a stop asks supervisord to stop everything, then sweeps whatever still carries the run id (TERM, then KILL);
- before a start, the ports must be free, and processes left by an earlier run of the same var dir whose CLI is
  gone are swept first (the record is ``var/run/run.json``).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

RUN_ID_VARIABLE = "STRATA_RUN_ID"
_PR_SET_PDEATHSIG = 1


def new_run_id() -> str:
    return uuid.uuid4().hex


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: SIGTERM this process when the process that started it dies (no orphaned supervisord)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


# ``preexec_fn`` of every child that must not outlive the CLI (None where prctl does not exist)
TIED_TO_PARENT = die_with_parent if sys.platform.startswith("linux") else None


def start_supervisord(config: Path, env: dict[str, str], run_id: str) -> subprocess.Popen[bytes]:
    """supervisord in the foreground, in its own session (a terminal's Ctrl-C reaches only the CLI), tied to us."""
    supervisord = Path(sys.executable).with_name("supervisord")
    return subprocess.Popen(
        [str(supervisord), "-n", "-c", str(config)],
        env={**os.environ, **env, RUN_ID_VARIABLE: run_id},
        start_new_session=True,
        preexec_fn=TIED_TO_PARENT,
    )


def processes_of(run_id: str) -> list[int]:
    """PIDs of every live process whose environment carries this run id (Linux ``/proc``; others: none)."""
    marker = f"{RUN_ID_VARIABLE}={run_id}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        pid = int(entry.name)
        if pid == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue  # gone, or not ours to read
        if state != "Z" and marker in environ.split(b"\0"):
            found.append(pid)
    return found


def sweep(run_id: str, grace_seconds: float = 5.0) -> int:
    """TERM every process of the run, KILL those still there after ``grace_seconds``; returns how many were found."""
    pids = processes_of(run_id)
    _signal_all(pids, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and processes_of(run_id):
        time.sleep(0.1)
    _signal_all(processes_of(run_id), signal.SIGKILL)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and processes_of(run_id):
        time.sleep(0.05)
    return len(pids)


def _signal_all(pids: Iterable[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def stop_all(process: subprocess.Popen[bytes], run_id: str, timeout_seconds: float = 40.0) -> int:
    """Stop supervisord (it stops its programs), then sweep any process of the run left behind.

    Returns the number of processes the sweep had to stop (0 when supervisord stopped everything itself).
    """
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return sweep(run_id)


# ---------------------------------------------------------------------------------------------- the run record


@dataclass(frozen=True)
class RunRecord:
    """Who runs this var dir: the CLI's pid (and its start time) and the run id its processes carry."""

    run_id: str
    cli_pid: int
    #: the kernel's start time of the CLI process: a recycled pid has another one
    cli_started: str | None = None

    @staticmethod
    def path(run_dir: Path) -> Path:
        return run_dir / "run.json"

    @classmethod
    def of_this_process(cls, run_id: str) -> RunRecord:
        return cls(run_id, os.getpid(), process_start_time(os.getpid()))

    def write(self, run_dir: Path) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        record = {"run_id": self.run_id, "cli_pid": self.cli_pid, "cli_started": self.cli_started}
        self.path(run_dir).write_text(json.dumps(record))

    @classmethod
    def read(cls, run_dir: Path) -> RunRecord | None:
        try:
            data = json.loads(cls.path(run_dir).read_text())
            started = data.get("cli_started")
            return cls(str(data["run_id"]), int(data["cli_pid"]), None if started is None else str(started))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def cli_alive(self) -> bool:
        try:
            os.kill(self.cli_pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        stat = _proc_stat(self.cli_pid)
        if stat is None:
            return _is_strata(self.cli_pid)  # no /proc (not Linux): the command line is all we can go by
        state, started = stat
        if state in {"Z", "X"}:
            return False  # exited, not yet reaped by its parent: it runs nothing
        if self.cli_started is not None:
            return started == self.cli_started
        return _is_strata(self.cli_pid)


def process_start_time(pid: int) -> str | None:
    stat = _proc_stat(pid)
    return None if stat is None else stat[1]


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """``(state, start time in clock ticks)`` from ``/proc/<pid>/stat``, or None where there is no /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses
    return fields[0], fields[19]


def _is_strata(pid: int) -> bool:
    """A recycled pid is not our CLI: only a command line naming strata counts."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # cannot tell (not Linux): assume it is
    return not cmdline or b"strata" in cmdline  # empty while the process execs: cannot tell either


class AlreadyRunning(RuntimeError):
    """Another live ``strata run`` owns this var dir."""


def sweep_leftovers(run_dir: Path) -> int:
    """Stop the processes of an earlier run of this var dir whose CLI died without stopping them."""
    record = RunRecord.read(run_dir)
    if record is None:
        return 0
    if record.cli_alive():
        raise AlreadyRunning(
            f"Strata already runs from this var dir (strata pid {record.cli_pid}); stop it with Ctrl-C there first"
        )
    swept = sweep(record.run_id)
    RunRecord.path(run_dir).unlink(missing_ok=True)
    return swept


def busy_ports(ports: Iterable[int], host: str = "127.0.0.1") -> list[int]:
    """The ports another process already listens on (a start would fail on them, or talk to a stranger)."""
    busy = []
    for port in ports:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                busy.append(port)
    return busy
