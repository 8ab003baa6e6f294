"""The sidecar against a real HTTP component (werkzeug in a thread) that goes down and comes back."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from live_component import LiveComponent
from werkzeug.test import Client

from monitoring.entrypoints.app import create_app
from monitoring.settings import Settings
from strata_kernel.serving import serve_in_process

REPO = Path(__file__).resolve().parents[2]


def _success(app_client: object, probe: str) -> str:
    metrics = app_client.get("/metrics").get_data(as_text=True)  # type: ignore[attr-defined]
    prefix = f'strata_sidecar_probe_success{{component="data_lake",probe="{probe}"}} '
    return next(line.removeprefix(prefix) for line in metrics.splitlines() if line.startswith(prefix))


def test_sidecar_sees_a_component_go_down_and_come_back(tmp_path: Path, live_component: LiveComponent) -> None:
    settings = Settings(var_dir=tmp_path, sidecar_component="data_lake", sidecar_target_url=live_component.url)
    app = create_app(settings)
    monitor = app.extensions["strata.sidecar"].monitor
    client = Client(app)

    monitor.probe_once()
    assert (_success(client, "healthz"), _success(client, "readyz")) == ("1.0", "1.0")

    live_component.ready = False
    results = {r.probe.value: r for r in monitor.probe_once()}
    assert (_success(client, "healthz"), _success(client, "readyz")) == ("1.0", "0.0")
    assert results["readyz"].detail == "HTTP 503: database: connection refused"

    live_component.stop()
    results = {r.probe.value: r for r in monitor.probe_once()}
    assert (_success(client, "healthz"), _success(client, "readyz")) == ("0.0", "0.0")
    assert results["healthz"].detail == "connection refused"

    live_component.ready = True
    live_component.start()  # same port
    monitor.probe_once()
    assert (_success(client, "healthz"), _success(client, "readyz")) == ("1.0", "1.0")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sidecar_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_")}
    env["STRATA_VAR_DIR"] = str(tmp_path)
    return env


@pytest.mark.e2e
def test_sidecar_command_serves_probe_metrics(tmp_path: Path, live_component: LiveComponent) -> None:
    port = _free_port()
    command = [sys.executable, "-m", "monitoring", "sidecar", "--component", "data_lake"]
    command += ["--target", live_component.url, "--port", str(port), "--interval", "0.2"]
    process = subprocess.Popen(command, cwd=REPO, env=_sidecar_env(tmp_path), stderr=subprocess.PIPE, text=True)
    try:
        line = 'strata_sidecar_probe_success{component="data_lake",probe="readyz"} '
        # the first wait includes the sidecar's start-up: on this shared machine at load 25+ that took over 15 s
        assert _wait_for_metric(f"http://127.0.0.1:{port}/metrics", line + "1.0", timeout_seconds=90)
        live_component.ready = False
        assert _wait_for_metric(f"http://127.0.0.1:{port}/metrics", line + "0.0")
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        assert _children(process.pid) == []  # one process serves it (no master + worker pair)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=15)
    assert "data_lake readyz probe fails (HTTP 503: database: connection refused)" in stderr
    assert process.returncode == 0  # SIGTERM stops it gracefully


def test_the_in_process_server_serves_any_wsgi_app_and_stops_it_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """strata_kernel.serving.serve_in_process (the sidecar's server, on the standard library) with a Flask service
    app too (tests/kernel/serving_app.py): it serves, and on SIGTERM stops serving, then the app's loops, then runs
    its shutdown callbacks."""
    from tests.kernel.serving_app import factory

    marker, port = tmp_path / "shutdown", _free_port()
    monkeypatch.setenv("STRATA_TEST_SHUTDOWN_FILE", str(marker))
    answers: list[object] = []

    def call_then_stop() -> None:
        try:
            if _wait_for_metric(f"http://127.0.0.1:{port}/metrics", "strata_demo_ready 0.0", timeout_seconds=60):
                answers.append(httpx.post(f"http://127.0.0.1:{port}/slow").json())
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # to this process: serve_in_process's handler stops it

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    threading.Thread(target=call_then_stop, daemon=True).start()
    try:
        serve_in_process(factory, host="127.0.0.1", port=port)  # returns once stopped
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert answers == [{"status": "done"}]
    lines = [line.rsplit(" ", 1)[0] for line in marker.read_text().splitlines()]
    assert lines == ["loop running in", "loop stopped in", "flushed by"]


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _wait_for_metric(url: str, line: str, timeout_seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        try:
            if line in httpx.get(url, timeout=1).text.splitlines():
                return True
        except httpx.TransportError:
            pass  # still starting
        time.sleep(0.1)
    return False


def test_sidecar_command_rejects_an_unknown_component_in_one_line(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "monitoring", "sidecar", "--component", "billing"]
    result = subprocess.run(command, cwd=REPO, env=_sidecar_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: unknown component 'billing'; expected one of: ui, business_logic, data_processing, "
        "inference_engine, data_lake, data_collection, comparative_eval, help_centre, data_processing_stream"
    ]


#: what a sidecar that only probes must not hold: the numeric and data stack, the ORM, httpx (with rich and
#: pygments for its command line), gunicorn (it serves from one process) and the web framework of the services
#: (Flask, APIFlask, Werkzeug, Jinja2, marshmallow, apispec: about 10 MB; it serves a plain WSGI app on the standard
#: library's server); the data monitors' code loads only in the sidecars that watch data; pydantic-settings, with
#: the asyncio it imports (about 5 MB: the settings are read by strata_kernel.settings on a plain pydantic model);
#: typer and click (about 1.5 MB: the sidecar's command line is argparse)
NOT_IN_A_PROBE_ONLY_SIDECAR = (
    "numpy", "pandas", "pyarrow", "scipy", "sqlalchemy", "datasketches", "httpx", "rich", "gunicorn",
    "flask", "apiflask", "werkzeug", "jinja2", "marshmallow", "apispec", "webargs", "flask_swagger_ui",
    "strata_kernel.profiles", "strata_kernel.service", "monitoring.monitors", "pydantic_settings", "asyncio",
    "typer", "click",
)  # fmt: skip


@pytest.mark.e2e
def test_a_probe_only_sidecar_imports_no_data_or_numeric_library(tmp_path: Path, live_component: LiveComponent) -> None:
    """The sidecar command as `strata run` starts it, with the interpreter's import log (-X importtime, read for
    the module names only): every module it loads to start, probe, answer its routes and stop on SIGTERM. (Its
    memory, against the 40 MB a sidecar may take, is measured by `python -m bench footprint --sidecars`.)"""
    port = _free_port()
    command = [sys.executable, "-X", "importtime", "-m", "monitoring", "sidecar", "--component", "business_logic"]
    command += ["--target", live_component.url, "--port", str(port), "--interval", "0.2"]
    process = subprocess.Popen(command, cwd=REPO, env=_sidecar_env(tmp_path), stderr=subprocess.PIPE, text=True)
    try:
        line = 'strata_sidecar_probe_success{component="business_logic",probe="readyz"} 1.0'
        assert _wait_for_metric(f"http://127.0.0.1:{port}/metrics", line, timeout_seconds=90)
        paths = ("/readyz", "/v1/probes", "/openapi.json", "/docs", "/docs-assets/swagger-ui.css", "/nowhere")
        answers = {path: httpx.get(f"http://127.0.0.1:{port}{path}").status_code for path in paths}
        assert answers == {path: 404 if path == "/nowhere" else 200 for path in paths}  # what they load counts too
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=15)
    imported = _imported_modules(stderr)
    assert "monitoring.adapters.http_target" in imported  # the log is read right
    unwanted = {m for m in imported if any(m == n or m.startswith(f"{n}.") for n in NOT_IN_A_PROBE_ONLY_SIDECAR)}
    assert sorted(unwanted) == []


def _imported_modules(importtime_log: str) -> set[str]:
    """The module names in ``-X importtime``'s lines: ``import time: self [us] | cumulative | name``."""
    return {
        line.rsplit("|", 1)[1].strip() for line in importtime_log.splitlines() if line.startswith("import time:")
    } - {"package"}  # the header's last column
