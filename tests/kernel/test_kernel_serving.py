"""strata_kernel.serving under gunicorn: overload is shed with 503 + Retry-After, background loops start in the
worker after the fork, a stopping worker stops them and then flushes."""

from __future__ import annotations

import concurrent.futures
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from flask.testing import FlaskClient

from strata_kernel.access import public
from strata_kernel.service import create_service_app
from strata_kernel.shedding import SHED_AFTER_SECONDS, set_queue_wait
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client() -> FlaskClient:
    app = create_service_app("demo", title="Demo")

    @app.post("/quote")
    @public
    def quote() -> dict[str, str]:
        return {"status": "ok"}

    return app.test_client()


def test_a_request_that_waited_too_long_for_a_thread_is_shed_at_once(client: FlaskClient) -> None:
    set_queue_wait(SHED_AFTER_SECONDS + 0.1)  # what the gunicorn worker measured for this thread's request
    try:
        shed = client.post("/quote")
        ops = client.get("/readyz")
    finally:
        set_queue_wait(0.0)

    assert shed.status_code == 503 and shed.headers["Retry-After"] == "1"
    assert shed.get_json()["error"]["code"] == "overloaded"
    assert ops.status_code == 200  # health, readiness and metrics are never shed
    assert client.post("/quote").status_code == 200
    assert 'strata_demo_http_shed_total{endpoint="/quote"} 1.0' in client.get("/metrics").get_data(as_text=True)


@pytest.mark.timeout(120)
def test_gunicorn_sheds_a_queue_and_a_stopping_worker_stops_its_loops_then_runs_its_shutdown_callbacks(
    tmp_path: Path,
) -> None:
    port, marker = free_port(), tmp_path / "shutdown"
    env = {**os.environ, "STRATA_TEST_SHUTDOWN_FILE": str(marker), "PYTHONPATH": str(ROOT)}
    code = (f"from strata_kernel.serving import serve; from tests.kernel.serving_app import factory; "
            f"serve(factory, host='127.0.0.1', port={port}, workers=1, threads=2)")  # fmt: skip
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, server)
        # 2 threads, 0.3 s per request, 20 at once: the later ones would queue for up to 3 s
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(lambda _: _post(f"{url}/slow"), range(20)))
        statuses = sorted(status for status, _ in answers)
        assert set(statuses) == {200, 503}, statuses
        assert all(retry == "1" for status, retry in answers if status == 503)
        # refused before its body was read (405 here; 401/403 alike), on kept-alive connections: never a stall
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            slowest = max(pool.map(lambda _: _refused_on_one_connection(f"{url}/slow", 60), range(3)))
        assert slowest < 3.0, f"a refused request took {slowest:.1f} s"
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    lines = marker.read_text().splitlines()
    assert [line.rsplit(" ", 1)[0] for line in lines] == ["loop running in", "loop stopped in", "flushed by"]
    worker_pids = {line.rsplit(" ", 1)[1] for line in lines}
    assert len(worker_pids) == 1 and str(server.pid) not in worker_pids  # one worker, after the fork


@pytest.mark.timeout(120)
def test_several_workers_share_a_private_metrics_directory_that_is_removed_when_the_server_exits(
    tmp_path: Path,
) -> None:
    """The hostile-input campaign found temporary strata-metrics-* directories left behind by stopped servers."""
    port, scratch = free_port(), tmp_path / "tmp"
    scratch.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({"TMPDIR": str(scratch), "STRATA_TEST_SHUTDOWN_FILE": str(tmp_path / "shutdown"),
                "PYTHONPATH": str(ROOT)})  # fmt: skip
    code = (f"from strata_kernel.serving import serve; from tests.kernel.serving_app import factory; "
            f"serve(factory, host='127.0.0.1', port={port}, workers=2, threads=2)")  # fmt: skip
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", server)
        [directory] = scratch.glob("strata-metrics-*")
        mode = directory.stat().st_mode & 0o777
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()

    assert mode == 0o700
    assert list(scratch.iterdir()) == []


@pytest.mark.timeout(120)
def test_gunicorn_reads_requests_with_its_c_parser() -> None:
    """gunicorn_h1c (gunicorn[fast]) is installed and gunicorn chooses it: its default `auto` falls back to the
    Python parser without a word when the extension is missing, and every request of every service pays for it."""
    from gunicorn.config import Config
    from gunicorn.http import message

    assert message._check_fast_parser(Config())


def test_a_request_already_read_with_the_previous_ones_body_is_answered_at_once(tmp_path: Path) -> None:
    """A refused request's unread body is drained after its answer; a read of it can take in the next request too
    (the client sent it on getting the answer), or a client pipelines. Those bytes wait in the worker's buffer, not
    on the socket: left to the poller, the connection stalled until the client gave up (the hostile-input
    campaign's schemathesis run: four 10 s time-outs on refused calls). Two pipelined requests force that case."""
    port = free_port()
    env = {**os.environ, "STRATA_TEST_SHUTDOWN_FILE": str(tmp_path / "shutdown"), "PYTHONPATH": str(ROOT)}
    code = (f"from strata_kernel.serving import serve; from tests.kernel.serving_app import factory; "
            f"serve(factory, host='127.0.0.1', port={port}, workers=1, threads=2)")  # fmt: skip
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    body = b'{"city_id": "x"}'
    refused = b"PUT /slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body), body)  # fmt: skip
    answered = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", server)
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
            connection.sendall(refused + answered)
            received = b""
            while received.count(b"HTTP/1.1 ") < 2:
                try:
                    chunk = connection.recv(65536)
                except TimeoutError:  # no second answer within 5 s: the stall
                    break
                if not chunk:
                    break
                received += chunk
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", received) == [b"405", b"200"]
    assert seconds < 3.0


def _linger_server(tmp_path: Path, linger_seconds: float) -> tuple[subprocess.Popen[bytes], int]:
    """One worker with ONE thread, which lingers ``linger_seconds`` on a kept-alive connection."""
    port = free_port()
    env = {**os.environ, "STRATA_TEST_SHUTDOWN_FILE": str(tmp_path / "shutdown"), "PYTHONPATH": str(ROOT)}
    code = (f"from strata_kernel.gunicorn_worker import QueueTimedThreadWorker as W; W._LINGER_SECONDS = "
            f"{linger_seconds}; from strata_kernel.serving import serve; from tests.kernel.serving_app import "
            f"factory; serve(factory, host='127.0.0.1', port={port}, workers=1, threads=1)")  # fmt: skip
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    _wait_healthy(f"http://127.0.0.1:{port}", server)
    return server, port


def test_a_thread_lingering_on_its_connection_serves_its_next_request_and_yields_to_another_connection(
    tmp_path: Path,
) -> None:
    """The only thread lingers 30 s on a kept-alive connection: that connection's next request is served, and a
    request on another connection is not kept waiting for the linger to end (the thread sees it queued)."""
    server, port = _linger_server(tmp_path, linger_seconds=30.0)
    try:
        with httpx.Client(timeout=10) as first, httpx.Client(timeout=10) as second:
            assert first.get(f"http://127.0.0.1:{port}/healthz").status_code == 200  # the thread now lingers on it
            time.sleep(0.3)
            assert first.get(f"http://127.0.0.1:{port}/healthz").status_code == 200  # served by the lingering thread
            started = time.perf_counter()
            assert second.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            waited = time.perf_counter() - started
            assert first.get(f"http://127.0.0.1:{port}/healthz").status_code == 200  # back through the poller
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert waited < 5.0  # not the 30 s linger


def test_a_worker_stops_promptly_while_its_thread_lingers(tmp_path: Path) -> None:
    server, port = _linger_server(tmp_path, linger_seconds=60.0)
    with httpx.Client(timeout=10) as client:
        assert client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        started = time.perf_counter()
        server.terminate()
        server.wait(timeout=30)
    # the lingering connection is given back at once: the worker need not wait out its 5 s graceful_timeout
    assert time.perf_counter() - started < 4.0
    assert (tmp_path / "shutdown").read_text().count("flushed by") == 1


def _refused_on_one_connection(url: str, count: int) -> float:
    slowest = 0.0
    with httpx.Client(timeout=25) as client:
        for index in range(count):
            started = time.perf_counter()
            assert client.put(url, json={"city_id": "", "n_items": index}).status_code == 405
            slowest = max(slowest, time.perf_counter() - started)
    return slowest


def _post(url: str) -> tuple[int, str | None]:
    response = httpx.post(url, timeout=30)
    return response.status_code, response.headers.get("Retry-After")


def _wait_healthy(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the server never answered")


@pytest.mark.parametrize(("workers", "preloaded"), [(1, []), (2, ["json.tool"])])
def test_the_master_preloads_modules_only_when_workers_share_them(
    monkeypatch: pytest.MonkeyPatch, workers: int, preloaded: list[str]
) -> None:
    """One worker: the master imports nothing to share (a bare supervisor); several: imported once before the fork."""
    from strata_kernel import gunicorn_worker, serving

    imported: list[str] = []
    monkeypatch.setattr(serving.importlib, "import_module", imported.append)
    monkeypatch.setattr(gunicorn_worker.GunicornApp, "run", lambda self: None)  # no server: what the master did before
    monkeypatch.setattr(serving, "_shared_metrics_options", dict)  # no multiprocess metrics directory
    serving.serve(lambda: None, host="127.0.0.1", port=free_port(), workers=workers, preload_modules=["json.tool"])
    assert imported == preloaded


def test_app_from_imports_the_app_module_only_when_called(monkeypatch: pytest.MonkeyPatch) -> None:
    from strata_kernel import serving

    imported: list[str] = []

    class Module:
        @staticmethod
        def create_app(*args: object) -> tuple[object, ...]:
            return args

    def import_module(name: str) -> type[Module]:
        imported.append(name)
        return Module

    monkeypatch.setattr(serving.importlib, "import_module", import_module)
    factory = serving.app_from("some_service.entrypoints.app", "settings")
    assert imported == []
    assert factory() == ("settings",)
    assert imported == ["some_service.entrypoints.app"]


HEAVY = ("numpy", "pyarrow", "pandas", "scipy", "sqlalchemy", "duckdb", "xgboost", "mlflow")


@pytest.mark.parametrize("service", ["business_logic", "comparative_eval", "data_lake", "data_processing",
                                     "inference_engine", "data_collection", "ui"])  # fmt: skip
def test_a_services_command_line_loads_no_heavy_library(service: str) -> None:
    """What a one-worker gunicorn master holds: its command line. The app and its libraries load in the worker
    (bench footprint: the masters held 23-91 MB of them, counted again in their workers' RSS)."""
    code = f"import sys, {service}.entrypoints.cli; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert loaded.stdout.split() == []


def test_the_worker_beats_to_its_master_at_most_once_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    """gthread's loop beats on every turn (an os.utime per request); the master needs one within its timeout."""
    from strata_kernel import gunicorn_worker

    class Heart:
        beats = 0

        def notify(self) -> None:
            self.beats += 1

    worker = gunicorn_worker.QueueTimedThreadWorker.__new__(gunicorn_worker.QueueTimedThreadWorker)
    worker.tmp = Heart()
    now = [1000.0]
    monkeypatch.setattr(gunicorn_worker.time, "monotonic", lambda: now[0])
    for _ in range(50):  # fifty turns of the loop within a moment
        worker.notify()
        now[0] += 0.01
    assert worker.tmp.beats == 1
    now[0] += 0.6
    worker.notify()
    assert worker.tmp.beats == 2  # more than a second after the last beat
