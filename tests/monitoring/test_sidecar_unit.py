"""The sidecar's probe logic against fake targets (at the ProbeTarget port) and real sockets (its HTTP target)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from werkzeug.test import Client

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
from strata_kernel import background
from strata_kernel.serving import make_threaded_server
from tests.fuzz import fuzz_openapi


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
    client = Client(app)

    assert client.get("/readyz").status_code == 503
    start_probing(app)
    try:
        assert _wait_until(lambda: len(app.extensions["strata.sidecar"].monitor.latest()) == 2)
        assert client.get("/readyz").get_json() == {"status": "ready"}
        metrics = client.get("/metrics").get_data(as_text=True)
        assert 'strata_sidecar_probe_success{component="business_logic",probe="readyz"} 0.0' in metrics
        probes = client.get("/v1/probes").get_json()
    finally:
        app.extensions["strata.sidecar"].loop.stop()
    assert client.get("/readyz").get_json() == {"status": "not ready", "reasons": ["sidecar-probe-loop not running"]}
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


def test_the_sidecar_answers_as_every_service_does(tmp_path: Path) -> None:
    """JSON errors, 405 with Allow, HEAD and OPTIONS, the request id, the metrics' content type and the request
    metrics (the ops routes uncounted): what a Strata service answers, from the sidecar's plain WSGI app."""
    app = create_app(_settings(tmp_path), target=FakeTarget())
    client = Client(app)

    missing = client.get("/v1/nothing")
    assert (missing.status_code, missing.content_type) == (404, "application/json")
    assert missing.get_json()["error"]["code"] == "not_found"
    refused = client.post("/v1/probes")
    assert (refused.status_code, refused.headers["Allow"]) == (405, "GET, HEAD, OPTIONS")
    assert refused.get_json()["error"]["code"] == "method_not_allowed"
    head = client.head("/healthz")
    assert (head.status_code, head.get_data(), head.headers["Content-Length"]) == (200, b"", "16")
    assert client.options("/v1/probes").headers["Allow"] == "GET, HEAD, OPTIONS"
    assert client.get("/healthz").get_data() == b'{"status":"ok"}\n'
    assert client.get("/healthz", headers={"X-Request-ID": "click-42"}).headers["X-Request-ID"] == "click-42"
    replaced = client.get("/healthz", headers={"X-Request-ID": "has space"}).headers["X-Request-ID"]
    assert replaced != "has space" and len(replaced) == 16  # a fresh id: a bad one reaches no log and no reply
    metrics = client.get("/metrics")
    assert metrics.headers["Content-Type"] == CONTENT_TYPE_LATEST

    counted = {
        (s.labels["endpoint"], s.labels["method"], s.labels["status"]): s.value
        for metric in app.registry.collect() if metric.name == "strata_sidecar_http_requests"
        for s in metric.samples if s.name.endswith("_total")
    }  # fmt: skip
    assert counted == {
        ("unmatched", "GET", "404"): 1,
        ("unmatched", "POST", "405"): 1,
        ("/v1/probes", "OPTIONS", "200"): 1,
    }


def test_the_sidecar_documents_its_routes_and_serves_swagger_ui(tmp_path: Path) -> None:
    client = Client(create_app(_settings(tmp_path), target=FakeTarget()))

    document = client.get("/openapi.json", base_url="http://sidecar:9101").get_json()
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "Strata sidecar monitor (business_logic)"
    assert document["servers"] == [{"url": "http://sidecar:9101/"}]
    assert set(document["paths"]) == {"/healthz", "/readyz", "/v1/probes"}  # /metrics and /docs undocumented
    for path in document["paths"]:
        assert client.get(path).status_code in {int(code) for code in document["paths"][path]["get"]["responses"]}
    page = client.get("/docs")
    assert page.content_type == "text/html; charset=utf-8"
    assets = [line.split('"')[-2] for line in page.get_data(as_text=True).splitlines() if "/docs-assets/" in line]
    assert len(assets) == 4
    for asset in assets:  # Swagger UI's own files, from this process: /docs works offline
        answer = client.get(asset)
        assert answer.status_code == 200, asset
        assert len(answer.get_data()) == int(answer.headers["Content-Length"]) > 0
    assert client.get("/docs-assets/swagger-ui-bundle.js").content_type == "text/javascript; charset=utf-8"
    for outside in ("/docs-assets/../app.py", "/docs-assets/%2e%2e/app.py", "/docs-assets/LICENSE"):
        assert client.get(outside).status_code == 404, outside


@pytest.mark.fuzz
def test_the_sidecar_never_answers_5xx_nor_off_its_openapi_document(tmp_path: Path) -> None:
    """Schemathesis over the document (tests/fuzz.py): it parses, and every answer is as it says."""
    app = create_app(_settings(tmp_path, probe_interval_seconds=0.05), target=FakeTarget(ready=False))
    start_probing(app)  # ready (a 503 is a failure to schemathesis), with a failing probe in /v1/probes
    try:
        assert _wait_until(lambda: len(app.extensions["strata.sidecar"].monitor.latest()) == 2)
        assert fuzz_openapi(app) >= 3
    finally:
        background.stop(app)


def test_the_sidecar_is_served_over_http_by_the_standard_library(tmp_path: Path) -> None:
    """The in-process server (strata_kernel.serving) answers the plain WSGI app over a real socket, a thread per
    connection: a slow answer does not hold the others up."""
    target = FakeTarget()
    app = create_app(_settings(tmp_path), target=target)
    server = make_threaded_server("127.0.0.1", 0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        with socket.create_connection(("127.0.0.1", server.server_port)):  # open, never sends a request
            assert httpx.get(f"{url}/healthz", timeout=5).json() == {"status": "ok"}
        app.extensions["strata.sidecar"].monitor.probe_once()
        answer = httpx.get(f"{url}/v1/probes", timeout=5)
        assert [p["probe"] for p in answer.json()["probes"]] == ["healthz", "readyz"]
        assert answer.headers["Content-Type"] == "application/json"
        assert httpx.get(f"{url}/readyz", timeout=5).status_code == 503  # the loops are not running
    finally:
        server.shutdown()
        server.server_close()
