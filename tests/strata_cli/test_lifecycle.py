"""Processes of a run are found by the run id in their environment, whatever their parent has become."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from strata_cli import lifecycle


def _orphans(run_id: str, count: int = 1) -> None:
    """``sleep``s started through a shell that exits at once: re-parented, as supervisord's children are when it dies.

    Returns once all of them are visible: a child still inside ``execve`` shows an empty environment for a moment
    (seen under load), and the tests below are about leftovers that have long settled.
    """
    for _ in range(count):
        subprocess.run(["sh", "-c", "sleep 300 >/dev/null 2>&1 &"], env={**os.environ, "STRATA_RUN_ID": run_id},
                       check=True)  # fmt: skip
    deadline = time.monotonic() + 10
    while len(lifecycle.processes_of(run_id)) < count:
        assert time.monotonic() < deadline, f"the {count} orphan(s) of run {run_id} never became visible"
        time.sleep(0.02)


def test_leftovers_of_a_run_whose_cli_was_killed_are_swept_before_the_next_start(tmp_path: Path) -> None:
    run_id = lifecycle.new_run_id()
    dead_cli = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_cli.wait()
    lifecycle.RunRecord(run_id, dead_cli.pid).write(tmp_path)
    _orphans(run_id, 2)
    assert len(lifecycle.processes_of(run_id)) == 2

    assert lifecycle.sweep_leftovers(tmp_path) == 2

    assert lifecycle.processes_of(run_id) == []
    assert not lifecycle.RunRecord.path(tmp_path).exists()


def test_another_runs_processes_are_left_alone(tmp_path: Path) -> None:
    mine, theirs = lifecycle.new_run_id(), lifecycle.new_run_id()
    _orphans(theirs)
    try:
        assert lifecycle.sweep(mine) == 0
        assert len(lifecycle.processes_of(theirs)) == 1
    finally:
        lifecycle.sweep(theirs)


def test_a_start_refuses_a_var_dir_another_live_strata_runs(tmp_path: Path) -> None:
    cli = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "strata"])
    try:
        lifecycle.RunRecord(lifecycle.new_run_id(), cli.pid).write(tmp_path)
        with pytest.raises(lifecycle.AlreadyRunning, match=f"strata pid {cli.pid}"):
            lifecycle.sweep_leftovers(tmp_path)
    finally:
        cli.kill()
        cli.wait()


def test_busy_ports_names_the_ports_someone_listens_on() -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert lifecycle.busy_ports([port]) == [port]
    assert lifecycle.busy_ports([port]) == []


def test_a_cli_that_exited_but_was_never_reaped_runs_nothing(tmp_path: Path) -> None:
    """A zombie keeps its pid (kill(pid, 0) succeeds) and an empty command line: it must not block the next start."""
    run_id = lifecycle.new_run_id()
    cli = subprocess.Popen([sys.executable, "-c", "pass", "strata"])
    record = lifecycle.RunRecord(run_id, cli.pid, lifecycle.process_start_time(cli.pid))
    record.write(tmp_path)
    try:
        _wait_until_zombie(cli.pid)
        _orphans(run_id)

        assert lifecycle.sweep_leftovers(tmp_path) == 1

        assert not lifecycle.RunRecord.path(tmp_path).exists()
    finally:
        cli.wait()


def test_a_recycled_pid_naming_strata_is_not_the_recorded_cli(tmp_path: Path) -> None:
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "strata"])
    try:
        started = lifecycle.process_start_time(stranger.pid)
        assert started is not None
        lifecycle.RunRecord(lifecycle.new_run_id(), stranger.pid, str(int(started) - 1)).write(tmp_path)

        assert lifecycle.sweep_leftovers(tmp_path) == 0
        assert stranger.poll() is None  # the stranger itself is never signalled
    finally:
        stranger.kill()
        stranger.wait()


def test_the_record_of_this_process_names_it_alive(tmp_path: Path) -> None:
    record = lifecycle.RunRecord.of_this_process(lifecycle.new_run_id())
    record.write(tmp_path)

    assert lifecycle.RunRecord.read(tmp_path) == record
    assert record.cli_alive()


def _wait_until_zombie(pid: int, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return
        time.sleep(0.05)
    raise AssertionError(f"pid {pid} did not exit")


def test_a_killed_builds_helper_processes_stop_with_it() -> None:
    """A build killed by SIGKILL (a CI or test timeout) cannot run its cleanup: what it started must still stop."""
    build = subprocess.Popen(
        [sys.executable, "-c", "import subprocess, sys, time\n"
         "from strata_cli.lifecycle import TIED_TO_PARENT\n"
         "helper = subprocess.Popen(['sleep', '300'], preexec_fn=TIED_TO_PARENT)\n"
         "print(helper.pid, flush=True)\n"
         "time.sleep(300)\n"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert build.stdout is not None
    helper = int(build.stdout.readline())
    assert _alive(helper)

    build.kill()
    build.wait()

    deadline = time.monotonic() + 10
    while _alive(helper) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(helper)


def _alive(pid: int) -> bool:
    """Running and not a zombie (the helper's parent is gone: init reaps it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
