"""`strata run` waits for readiness on progress, not on a fixed deadline: a service that keeps loading is waited
for, one stuck on the same step (or one that cannot become ready, or a process that died) fails the start with one
line saying who and why; the allowance grows with the machine's load; a log shows what each one is loading."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rich.console import Console

from strata_cli import waiting
from strata_cli.waiting import NotReady, wait_ready
from tests.support import serve

#: what /readyz answers on its n-th call (0-based): None = ready, else the progress of a service not ready yet
Script = Callable[[int], dict[str, Any] | None]


class ReadyzScript:
    """A WSGI service whose /readyz answers what ``script`` says for each call, as strata_kernel.service does."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        progress = self.script(self.calls)
        self.calls += 1
        if progress is None:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"status": "ready"}']
        body = {"status": "not ready", "reasons": ["models not loaded"], "progress": progress}
        start_response("503 SERVICE UNAVAILABLE", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]


@pytest.fixture
def service() -> Iterator[Callable[[Script], str]]:
    servers = []

    def start(script: Script) -> str:
        server, url = serve(ReadyzScript(script))
        servers.append(server)
        return url

    yield start
    for server in servers:
        server.shutdown()


@pytest.fixture(autouse=True)
def idle_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The allowance is scaled by the load average; these tests fix it (the shared machine's load varies)."""
    monkeypatch.setattr(waiting, "load_factor", lambda: 1.0)


def loading(done: int, total: int = 10, state: str = "loading") -> dict[str, Any]:
    return {"state": state, "step": f"loading model etd ({done + 1} of {total})", "done": done, "total": total}


def test_a_service_that_keeps_loading_is_waited_for_longer_than_the_stall_allowance(
    service: Callable[[Script], str],
) -> None:
    url = service(lambda n: loading(n) if n < 10 else None)  # one more item loaded at every look, ready at the 11th

    seconds = wait_ready({"inference_engine": url}, stall_seconds=1.0)

    assert seconds > 2.0  # ten polls 0.3 s apart: well past the 1 s allowed without progress, and not given up


def test_a_service_stuck_on_one_step_fails_the_start_naming_it_the_step_and_the_setting(
    service: Callable[[Script], str],
) -> None:
    ready = service(lambda n: None)
    stuck = service(lambda n: loading(3))

    with pytest.raises(NotReady) as failure:
        wait_ready({"ui": ready, "inference_engine": stuck}, stall_seconds=1.0)

    message = str(failure.value)
    assert message.startswith("inference_engine made no progress for ")
    assert "(loading model etd (4 of 10))" in message
    assert message.endswith("allowed 1s = STRATA_READY_TIMEOUT_SECONDS 1 x load 1.0")


def test_the_allowance_grows_with_the_load_of_the_machine(
    service: Callable[[Script], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(waiting, "load_factor", lambda: 3.0)
    stuck = service(lambda n: loading(3))
    started = time.monotonic()

    with pytest.raises(NotReady, match=r"allowed 3s = STRATA_READY_TIMEOUT_SECONDS 1 x load 3\.0$"):
        wait_ready({"inference_engine": stuck}, stall_seconds=1.0)

    assert time.monotonic() - started >= 3.0  # not given up at the unscaled 1 s


def test_a_service_that_cannot_become_ready_fails_at_once_with_its_reason(service: Callable[[Script], str]) -> None:
    failed = {"state": "failed", "step": "model etd has no version with alias production", "done": 0, "total": 1}
    url = service(lambda n: failed)

    with pytest.raises(NotReady, match=r"^inference_engine cannot become ready: model etd has no version with alias"):
        wait_ready({"inference_engine": url}, stall_seconds=60.0)


def test_a_process_that_exits_during_the_wait_fails_the_start(service: Callable[[Script], str]) -> None:
    url = service(lambda n: loading(n))
    supervisord = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    supervisord.wait()

    with pytest.raises(NotReady, match=r"^supervisord exited with code 3 before it was ready$"):
        wait_ready({"inference_engine": url}, stall_seconds=60.0, processes={"supervisord": supervisord})


def test_without_a_terminal_each_change_is_one_line_naming_the_process_and_what_it_loads(
    service: Callable[[Script], str],
) -> None:
    url = service(lambda n: loading(n // 2, total=2) if n < 4 else None)  # each step answered twice
    output = io.StringIO()

    wait_ready({"inference_engine": url}, stall_seconds=60.0, console=Console(file=output, force_terminal=False))

    lines = [line.split("] ", 1)[1] for line in output.getvalue().splitlines()]
    assert lines == [
        "inference_engine: loading model etd (1 of 2)",
        "inference_engine: loading model etd (2 of 2)",
        "inference_engine: ready",
    ]
