"""Routing over HTTP: the operator token, PUT/GET routing, canary/shadow/full as a caller sees them, the
prediction log on a local event log, the validate endpoint, metrics, and the comparative_eval poller."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from inference_fakes import FakeRegistry, constant_booster

from inference_engine.domain.models import ModelArtifact
from inference_engine.domain.signature import Instance
from inference_engine.entrypoints.app import create_app
from inference_engine.ports import ModelRuntime
from inference_engine.runtimes import create_runtime
from inference_engine.settings import Settings
from strata_kernel import background
from strata_kernel.eventlog.local import LocalEventLog
from tests.support import as_caller, json_of, serve, service_credential_for

TOKEN = "s3cret-operator"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
INSTANCE = {"a__x": 1.0, "a__y": None, "b__z": 2.5}
EVENT_FIELDS = {"event_id", "event_time", "request_id", "model", "version", "route", "routing_key", "node",
                "instance", "prediction", "latency_ms", "outcome", "error"}  # fmt: skip


def record(revision: int, mode: str = "canary", weight: float = 50, stable: int = 1, candidate: int | None = 2,
           **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {"model": "etd", "revision": revision, "stable_version": stable, "candidate_version": candidate,
            "mode": mode, "weight": weight, "node_pins": {}, **extra}  # fmt: skip


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def make_client(
    settings: Settings, registry: FakeRegistry, poll_routing: bool = False, **overrides: Any
) -> FlaskClient:
    """A client calling as data_processing (predictions); routing changes send the operator's token."""
    if not poll_routing:
        settings = settings.model_copy(update={"routing_poll_seconds": 0})
    app = create_app(settings, registry=registry, **overrides)
    background.start(app)  # what the server does in each worker after the fork
    client = as_caller(app.test_client(), settings, "data_processing")
    wait_for(lambda: client.get("/readyz").status_code == 200)
    return client


@pytest.fixture
def client(settings: Settings, registry: FakeRegistry) -> FlaskClient:
    return make_client(settings.model_copy(update={"operator_token": TOKEN}), registry)


def predict(client: FlaskClient, key: str | None = None, request_id: str | None = None) -> Any:
    headers = {"X-Routing-Key": key} if key is not None else {}
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    response = client.post("/v1/models/etd/predict", json={"instances": [INSTANCE]}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def logged_events(client: FlaskClient, var_dir: Path) -> list[dict[str, Any]]:
    client.application.extensions["inference_engine.prediction_log"].flush()
    consumer = LocalEventLog(var_dir / "eventlog").consumer("inference.predictions", "test")
    events = [event.value for event in consumer.poll(max_records=10_000, timeout_seconds=0.2)]
    consumer.close()
    return events


# --- the operator token ------------------------------------------------------------------------------------
def test_without_any_operator_token_routing_changes_are_refused(settings: Settings, registry: FakeRegistry) -> None:
    client = make_client(settings, registry)

    response = client.put("/v1/models/etd/routing", json=record(1), headers=AUTH)

    assert response.status_code == 403
    assert predict(client)["version"] == "1"


@pytest.mark.parametrize(
    ("headers", "status"),
    [({"Authorization": "Basic abc"}, 401), ({"Authorization": "Bearer wrong"}, 403)],
)
def test_a_missing_or_wrong_token_is_refused(client: FlaskClient, headers: dict[str, str], status: int) -> None:
    response = client.put("/v1/models/etd/routing", json=record(1), headers=headers)

    assert response.status_code == status
    assert json_of(client.get("/v1/models/etd/routing"))["revision"] == 0


def test_routing_is_changed_by_the_operator_or_comparative_eval_only(
    settings: Settings, registry: FakeRegistry
) -> None:
    client = make_client(settings.model_copy(update={"operator_token": TOKEN}), registry)
    comparative_eval = service_credential_for(settings, "comparative_eval").header()

    assert client.put("/v1/models/etd/routing", json=record(1)).status_code == 403  # data_processing may not
    assert client.put("/v1/models/etd/routing", json=record(1), headers=comparative_eval).status_code == 200
    assert json_of(client.put("/v1/models/etd/routing", json=record(2), headers=AUTH))["revision"] == 2


def test_the_token_comparative_eval_wrote_under_var_dir_is_accepted(settings: Settings, registry: FakeRegistry) -> None:
    client = make_client(settings, registry)
    token_file = settings.var_dir / "comparative_eval" / "operator_token"
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.write_text("from-file\n")  # written after the engine started: read when needed

    response = client.put("/v1/models/etd/routing", json=record(1), headers={"Authorization": "Bearer from-file"})

    assert response.status_code == 200
    assert json_of(response)["revision"] == 1


# --- PUT / GET routing and the routes a caller sees --------------------------------------------------------
def test_get_routing_says_the_alias_serves_until_a_record_is_applied(client: FlaskClient) -> None:
    before = json_of(client.get("/v1/models/etd/routing"))
    applied = client.put("/v1/models/etd/routing", json=record(4, weight=25), headers=AUTH)
    after = json_of(client.get("/v1/models/etd/routing"))

    assert (before["revision"], before["mode"], before["stable_version"], before["source"]) == (
        0, "full", 1, "alias:production"
    )  # fmt: skip
    assert applied.status_code == 200
    assert after == applied.json
    assert {k: after[k] for k in ("revision", "mode", "weight", "stable_version", "candidate_version")} == {
        "revision": 4, "mode": "canary", "weight": 25, "stable_version": 1, "candidate_version": 2
    }  # fmt: skip
    assert after["applied_at"]
    assert client.get("/v1/models/chatbot/routing").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (record(1, mode="blue"), "mode"),
        (record(1, weight=-1), "weight"),
        (record(1, model="eta"), "model"),
        ([], "body"),
    ],
)
def test_a_bad_record_is_a_400_naming_the_field(client: FlaskClient, body: Any, field: str) -> None:
    response = client.put("/v1/models/etd/routing", json=body, headers=AUTH)

    assert response.status_code == 400
    assert json_of(response)["error"]["field"] == field


def test_a_record_naming_an_unregistered_version_is_a_404_and_changes_nothing(client: FlaskClient) -> None:
    response = client.put("/v1/models/etd/routing", json=record(1, candidate=7), headers=AUTH)

    assert response.status_code == 404
    assert json_of(client.get("/v1/models/etd/routing"))["revision"] == 0


def test_canary_keys_stick_to_their_route_and_split_near_the_weight(client: FlaskClient) -> None:
    client.put("/v1/models/etd/routing", json=record(1, weight=30), headers=AUTH)

    first = {f"customer-{i}": predict(client, f"customer-{i}") for i in range(300)}
    again = {key: predict(client, key) for key in list(first)[:50]}

    assert all((again[k]["version"], again[k]["route"]) == (first[k]["version"], first[k]["route"]) for k in again)
    canaries = [body for body in first.values() if body["route"] == "canary"]
    assert {(b["version"], round(b["predictions"][0])) for b in canaries} == {("2", 20)}
    assert 0.2 < len(canaries) / len(first) < 0.4


def test_shadow_answers_with_stable_and_logs_both_routes(client: FlaskClient, settings: Settings) -> None:
    client.put("/v1/models/etd/routing", json=record(1, mode="shadow", weight=0), headers=AUTH)

    bodies = [predict(client, f"c-{i}", request_id=f"req-{i}") for i in range(5)]
    client.application.extensions["inference_engine.deps"].predictor.join_shadows()

    assert {(b["version"], b["route"], round(b["predictions"][0])) for b in bodies} == {("1", "stable", 10)}
    events = logged_events(client, settings.var_dir)
    by_route = {(e["request_id"], e["route"]): e for e in events}
    for i in range(5):
        assert by_route[(f"req-{i}", "stable")]["version"] == "1"
        shadow = by_route[(f"req-{i}", "shadow")]
        assert (shadow["version"], round(shadow["prediction"]), shadow["outcome"]) == ("2", 20, "ok")


def test_a_full_record_serves_the_new_stable_and_moves_the_production_alias(
    client: FlaskClient, registry: FakeRegistry
) -> None:
    response = client.put("/v1/models/etd/routing", json=record(2, mode="full", stable=2, candidate=None),
                          headers=AUTH)  # fmt: skip

    assert response.status_code == 200
    assert registry.aliases[("etd", "production")] == 2
    assert {(b["version"], b["route"]) for b in (predict(client, f"c-{i}") for i in range(10))} == {("2", "stable")}
    assert json_of(client.get("/v1/models/etd"))["version"] == "2"
    assert client.post("/v1/models/etd/reload", headers=AUTH).status_code == 409  # the record decides, not the alias


def test_every_prediction_is_logged_with_the_documented_fields(client: FlaskClient, settings: Settings) -> None:
    client.put("/v1/models/etd/routing", json=record(1, weight=100), headers=AUTH)

    predict(client, "customer-7", request_id="req-keyed")
    predict(client, None, request_id="req-unkeyed")

    events = {e["request_id"]: e for e in logged_events(client, settings.var_dir)}
    keyed, unkeyed = events["req-keyed"], events["req-unkeyed"]
    assert set(keyed) == EVENT_FIELDS
    assert (keyed["model"], keyed["version"], keyed["route"], keyed["routing_key"]) == ("etd", "2", "canary",
                                                                                         "customer-7")  # fmt: skip
    assert unkeyed["routing_key"] == "req-unkeyed"  # no X-Routing-Key: the request id keys the split
    assert keyed["instance"] == INSTANCE
    assert keyed["prediction"] == pytest.approx(20.0, abs=0.01)
    assert (keyed["outcome"], keyed["error"], keyed["node"]) == ("ok", None, None)
    assert keyed["latency_ms"] >= 0 and keyed["event_time"].endswith("+00:00")


def test_a_request_the_model_refuses_is_logged_as_an_error(client: FlaskClient, settings: Settings) -> None:
    response = client.post("/v1/models/etd/predict", json={"instances": [{"a__x": 1.0}]},
                           headers={"X-Request-ID": "req-bad"})  # fmt: skip

    assert response.status_code == 400
    (event,) = [e for e in logged_events(client, settings.var_dir) if e["request_id"] == "req-bad"]
    assert (event["outcome"], event["route"], event["version"]) == ("error", "stable", "1")
    assert "a__y" in event["error"]


def test_metrics_count_predictions_by_route_and_show_the_applied_revision(client: FlaskClient) -> None:
    client.put("/v1/models/etd/routing", json=record(3, weight=100), headers=AUTH)
    predict(client, "k-1")

    metrics = client.get("/metrics").get_data(as_text=True)

    assert 'strata_inference_engine_route_predictions_total{model="etd",route="canary",version="2"} 1.0' in metrics
    assert 'strata_inference_engine_routing_revision{model="etd"} 3.0' in metrics
    assert "strata_inference_engine_prediction_log_dropped_total 0.0" in metrics
    assert "strata_inference_engine_shadow_errors_total" in metrics


# --- validate ---------------------------------------------------------------------------------------------
class NonFinite(ModelRuntime):
    def __init__(self, artifact: ModelArtifact) -> None:
        super().__init__(artifact)
        self._inner = create_runtime(artifact)

    def load(self) -> None:
        self._inner.load()

    def predict(self, instances: Sequence[Instance]) -> list[float]:
        if self.artifact.model_version.version == 3:
            return [math.nan for _ in instances]
        return self._inner.predict(instances)


@pytest.fixture
def validating(settings: Settings, registry: FakeRegistry) -> FlaskClient:
    registry.add("etd", constant_booster(30.0))  # v3: predicts NaN through the runtime below
    registry.add("etd", constant_booster(40.0), features=("a__x", "a__y", "c__new"))  # v4
    client = make_client(settings, registry, runtime_factory=NonFinite)
    token = service_credential_for(settings, "comparative_eval").token
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"  # validation is comparative_eval's call
    return client


def validate(client: FlaskClient, version: str, body: dict[str, Any]) -> Any:
    return client.post(f"/v1/models/etd/versions/{version}/validate", json=body)


def test_a_version_that_serves_the_current_traffic_validates(validating: FlaskClient) -> None:
    response = validate(validating, "2", {"instances": [INSTANCE] * 20, "latency_budget_ms": 1000})

    assert response.status_code == 200
    assert response.json["ok"] is True
    assert response.json["problems"] == []
    assert response.json["instances"] == 20
    assert 0 < response.json["p99_ms"] < 1000
    assert json_of(validating.get("/v1/models/etd/routing"))["revision"] == 0  # validation routes nothing


@pytest.mark.parametrize(
    ("version", "body", "problem"),
    [
        ("3", {"instances": [INSTANCE], "latency_budget_ms": 1000}, "not a finite number"),
        ("4", {"instances": [{**INSTANCE, "c__new": 1.0}], "latency_budget_ms": 1000}, "c__new"),
        ("2", {"instances": [INSTANCE] * 5, "latency_budget_ms": 1e-6}, "over the budget"),
        ("2", {"instances": [{"a__x": 1.0}], "latency_budget_ms": 1000}, "instance 0: instances.0.a__y"),
    ],
)
def test_a_version_that_would_fail_traffic_is_not_ok_and_says_why(
    validating: FlaskClient, version: str, body: dict[str, Any], problem: str
) -> None:
    response = validate(validating, version, body)

    assert response.status_code == 200
    assert response.json["ok"] is False
    assert any(problem in line for line in response.json["problems"]), response.json["problems"]


def test_validating_an_unknown_version_or_without_a_budget_is_refused(validating: FlaskClient) -> None:
    assert validate(validating, "9", {"instances": [INSTANCE], "latency_budget_ms": 10}).status_code == 404
    missing_budget = validate(validating, "2", {"instances": [INSTANCE]})
    assert missing_budget.status_code == 400
    assert missing_budget.json["error"]["field"] == "latency_budget_ms"


# --- the poller -------------------------------------------------------------------------------------------
class FakeComparativeEval:
    """comparative_eval's routing endpoint, served on a free port; ``current`` None = 404."""

    def __init__(self) -> None:
        self.current: dict[str, Any] | None = None
        self.app = Flask("fake-comparative-eval")
        self.app.add_url_rule("/v1/deployments/<name>/routing", view_func=self._routing)

    def _routing(self, name: str) -> Any:
        if self.current is None or name != "etd":
            return {"error": {"code": "not_found", "message": "no deployment record"}}, 404
        return self.current


@pytest.fixture
def comparative_eval() -> Iterator[tuple[FakeComparativeEval, str]]:
    fake = FakeComparativeEval()
    server, url = serve(fake.app)
    yield fake, url
    server.shutdown()


def test_the_poller_applies_newer_records_and_keeps_them_when_comparative_eval_goes_away(
    settings: Settings, registry: FakeRegistry, comparative_eval: tuple[FakeComparativeEval, str]
) -> None:
    fake, url = comparative_eval
    polling = settings.model_copy(update={"comparative_eval_url": url, "routing_poll_seconds": 0.05})
    client = make_client(polling, registry, poll_routing=True)

    def revision() -> int:
        return int(json_of(client.get("/v1/models/etd/routing"))["revision"])

    time.sleep(0.2)
    assert revision() == 0  # 404: no record, the alias serves
    fake.current = record(1, weight=100, step=0, actor="ops", created_at="2025-01-01T00:00:00")
    wait_for(lambda: revision() == 1)
    assert predict(client, "k")["version"] == "2"

    fake.current = record(2, mode="full", stable=2, candidate=None)
    wait_for(lambda: revision() == 2)
    fake.current = record(1, mode="full", stable=1, candidate=None)  # older than the applied one: ignored
    time.sleep(0.2)
    fake.current = None  # comparative_eval lost its record: keep serving what was applied
    time.sleep(0.2)
    assert revision() == 2
    assert (predict(client, "k")["version"], registry.aliases[("etd", "production")]) == ("2", 2)


def test_an_unreachable_comparative_eval_leaves_the_alias_serving(settings: Settings, registry: FakeRegistry) -> None:
    unreachable = settings.model_copy(
        update={"comparative_eval_url": "http://127.0.0.1:9", "routing_poll_seconds": 0.05}
    )
    client = make_client(unreachable, registry, poll_routing=True)

    time.sleep(0.3)

    assert json_of(client.get("/v1/models/etd/routing"))["revision"] == 0
    assert predict(client)["version"] == "1"
