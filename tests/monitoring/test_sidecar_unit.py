"""The sidecar's probe logic against fake targets (at the ProbeTarget port) and real sockets (its HTTP target)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from monitoring.adapters.http_target import HttpProbeTarget
from monitoring.adapters.lake_checks_http import HttpLakeChecks
from monitoring.adapters.offline_http import HttpFeatureGroups
from monitoring.adapters.plain_http import HttpStatusError
from monitoring.adapters.reference_http import HttpReferenceSource
from monitoring.bootstrap import bootstrap
from monitoring.domain.probes import Probe, ProbeResult, judge_response
from monitoring.domain.targets import local_target_url, sidecar_port
from monitoring.entrypoints.app import create_app, start_probing
from monitoring.errors import SidecarConfigurationError
from monitoring.ports import ProbeTarget
from monitoring.settings import Settings


class FakeTarget(ProbeTarget):
    """A component whose liveness and readiness the test sets."""

    def __init__(self, alive: bool = True, ready: bool = True) -> None:
        self.alive = alive
        self.ready = ready
        self.calls = 0

    def check(self, probe: Probe) -> ProbeResult:
        self.calls += 1
        if not self.alive:
            return ProbeResult(probe, False, 0.001, "connection refused")
        if probe is Probe.READINESS and not self.ready:
            return judge_response(probe, 503, 0.002, "model: not loaded")
        return judge_response(probe, 200, 0.002)


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(var_dir=tmp_path, sidecar_component="business_logic", **values)  # type: ignore[arg-type]


def _sample(registry: CollectorRegistry, name: str, probe: str) -> float | None:
    return registry.get_sample_value(name, {"component": "business_logic", "probe": probe})


def test_only_http_200_passes_a_probe() -> None:
    assert judge_response(Probe.LIVENESS, 200, 0.01).success
    not_ready = judge_response(Probe.READINESS, 503, 0.01, "db down")
    assert not not_ready.success
    assert not_ready.detail == "HTTP 503: db down"
    assert not judge_response(Probe.LIVENESS, 500, 0.01).success


def test_default_ports_follow_the_component_ports() -> None:
    assert sidecar_port("business_logic") == 9101
    assert sidecar_port("ui") == 9100
    assert local_target_url("inference_engine") == "http://127.0.0.1:8003"
    assert sidecar_port("data_processing_stream") == 9112  # the stream worker (8012) has a sidecar too


def test_probe_outcomes_become_gauges(tmp_path: Path) -> None:
    target = FakeTarget(alive=True, ready=False)
    sidecar = bootstrap(_settings(tmp_path), target=target)

    sidecar.monitor.probe_once()

    assert _sample(sidecar.registry, "strata_sidecar_probe_success", "healthz") == 1.0
    assert _sample(sidecar.registry, "strata_sidecar_probe_success", "readyz") == 0.0
    assert _sample(sidecar.registry, "strata_sidecar_probe_duration_seconds", "readyz") == pytest.approx(0.002)
    assert _sample(sidecar.registry, "strata_sidecar_probe_last_run_timestamp_seconds", "healthz") is not None

    target.ready = True
    sidecar.monitor.probe_once()
    assert _sample(sidecar.registry, "strata_sidecar_probe_success", "readyz") == 1.0


def test_dead_target_fails_both_probes(tmp_path: Path) -> None:
    sidecar = bootstrap(_settings(tmp_path), target=FakeTarget(alive=False))

    results = sidecar.monitor.probe_once()

    assert [(r.probe.value, r.success, r.detail) for r in results] == [
        ("healthz", False, "connection refused"),
        ("readyz", False, "connection refused"),
    ]


@pytest.fixture
def answering() -> Iterator[Callable[[dict[str, tuple[int, bytes]]], str]]:
    """A real HTTP server answering each path with a given status and body; yields a function that starts one and
    gives its URL."""
    servers: list[HTTPServer] = []

    def start(answers: dict[str, tuple[int, bytes]]) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = answers.get(self.path, (404, b""))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                """Quiet."""

        server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_http_target_reads_the_readiness_reasons(answering: Callable[[dict[str, tuple[int, bytes]]], str]) -> None:
    reasons = json.dumps({"status": "not ready", "reasons": ["db: refused", "model: missing"]}).encode()
    url = answering({"/healthz": (200, b'{"status": "ok"}'), "/readyz": (503, reasons)})
    target = HttpProbeTarget(url, timeout_seconds=1)

    assert target.check(Probe.LIVENESS).success
    readiness = target.check(Probe.READINESS)
    assert not readiness.success
    assert readiness.status_code == 503
    assert readiness.detail == "HTTP 503: db: refused; model: missing"


def test_http_target_keeps_the_path_of_its_base_url(answering: Callable[[dict[str, tuple[int, bytes]]], str]) -> None:
    """A component behind a path (a proxy's /dp/) is probed at /dp/healthz; a body that is no JSON gives no reason."""
    url = answering({"/dp/healthz": (200, b"ok"), "/dp/readyz": (500, b"<html>oops</html>")})
    target = HttpProbeTarget(f"{url}/dp/", timeout_seconds=1)

    assert target.check(Probe.LIVENESS).success
    assert target.check(Probe.READINESS).detail == "HTTP 500"


def test_http_target_turns_a_refused_connection_into_a_failed_probe() -> None:
    with socket.socket() as closed:  # bound, never listening: the connection is refused
        closed.bind(("127.0.0.1", 0))
        target = HttpProbeTarget(f"http://127.0.0.1:{closed.getsockname()[1]}", timeout_seconds=1)

        result = target.check(Probe.LIVENESS)

    assert (result.success, result.detail, result.status_code) == (False, "connection refused", None)


def test_http_target_turns_a_silent_component_into_a_timed_out_probe() -> None:
    with socket.socket() as silent:  # listening, never answering: the kernel accepts, nobody reads
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        target = HttpProbeTarget(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout_seconds=0.2)

        result = target.check(Probe.READINESS)

    assert (result.success, result.detail, result.status_code) == (False, "timed out", None)


def test_the_data_reads_tell_a_missing_answer_from_a_failing_service(
    answering: Callable[[dict[str, tuple[int, bytes]]], str],
) -> None:
    url = answering({"/v1/models/etd/versions/3/reference": (404, b'{"error": {"code": "not_found"}}')})

    assert HttpReferenceSource(url).reference("etd", "3") is None  # not profiled (yet): asked again later
    assert HttpFeatureGroups(url).group("restaurant_stats") is None  # no such group: not compared
    with pytest.raises(HttpStatusError, match="HTTP 404 from GET /v1/commit-checks"):
        HttpLakeChecks(url).after(0)  # the loop logs it and reads again


def test_configuration_mistakes_are_named(tmp_path: Path) -> None:
    with pytest.raises(SidecarConfigurationError, match="unknown component 'billing'"):
        bootstrap(Settings(var_dir=tmp_path, sidecar_component="billing"))
    with pytest.raises(SidecarConfigurationError, match="pass --component"):
        bootstrap(Settings(var_dir=tmp_path))
    with pytest.raises(SidecarConfigurationError, match="must be an http"):
        bootstrap(_settings(tmp_path, sidecar_target_url="business_logic:8001"))
    with pytest.raises(SidecarConfigurationError, match="with a host"):
        bootstrap(_settings(tmp_path, sidecar_target_url="http://:8001"))


def test_app_exports_probes_and_is_ready_only_while_probing(tmp_path: Path) -> None:
    target = FakeTarget(alive=True, ready=False)
    app = create_app(_settings(tmp_path, probe_interval_seconds=0.05), target=target)
    client = app.test_client()

    assert client.get("/readyz").status_code == 503
    start_probing(app)
    try:
        assert _wait_until(lambda: len(app.extensions["strata.sidecar"].monitor.latest()) == 2)
        assert client.get("/readyz").status_code == 200
        metrics = client.get("/metrics").get_data(as_text=True)
        assert 'strata_sidecar_probe_success{component="business_logic",probe="readyz"} 0.0' in metrics
        probes = client.get("/v1/probes").get_json()
    finally:
        app.extensions["strata.sidecar"].loop.stop()
    assert probes["component"] == "business_logic"
    assert probes["target"] == "http://127.0.0.1:8001"
    assert {p["probe"]: p["detail"] for p in probes["probes"]} == {
        "healthz": "HTTP 200",
        "readyz": "HTTP 503: model: not loaded",
    }


def test_probe_loop_keeps_probing_and_stops(tmp_path: Path) -> None:
    target = FakeTarget()
    sidecar = bootstrap(_settings(tmp_path, probe_interval_seconds=0.01), target=target)

    sidecar.loop.start()
    sidecar.loop.start()  # idempotent
    assert _wait_until(lambda: target.calls >= 6)
    sidecar.loop.stop()

    assert not sidecar.loop.running
    calls_after_stop = target.calls
    time.sleep(0.05)
    assert target.calls == calls_after_stop


def _wait_until(condition: Callable[[], bool], timeout_seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False
