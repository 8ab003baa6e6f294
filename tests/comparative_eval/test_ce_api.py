"""The HTTP API (docs/contracts.md) through Flask's test client, with a fake engine at its port."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from comparative_eval.domain.events import PREDICTIONS_TOPIC
from comparative_eval.entrypoints.app import create_app
from comparative_eval.settings import Settings
from strata_kernel import background
from strata_kernel.errors import Unavailable
from strata_kernel.eventlog.local import LocalEventLog
from tests.comparative_eval.fakes import TEST_TEMPLATE, FakeClock, FakeEngine, write_samples
from tests.support import json_of

TOKEN = "s3cret-operator-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def settings_for(tmp_path: Path, **extra: Any) -> Settings:
    templates = tmp_path / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "etd.yaml").write_text(TEST_TEMPLATE)
    write_samples(tmp_path / "var" / "comparative_eval" / "samples")
    values: dict[str, Any] = {
        "var_dir": tmp_path / "var",
        "templates_dir": templates,
        "operator_token": TOKEN,
        "analysis_in_service": False,
        "log_json": False,
    }
    return Settings(**{**values, **extra})


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def client(tmp_path: Path, engine: FakeEngine) -> FlaskClient:
    app = create_app(settings_for(tmp_path), engine=engine, clock=FakeClock())
    return app.test_client()


def test_mutating_calls_need_the_operator_token(client: FlaskClient) -> None:
    body = {"version": 1, "mode": "full"}
    missing = client.post("/v1/deployments/etd/deploy", json=body)
    assert missing.status_code == 401 and json_of(missing)["error"]["code"] == "unauthorized"
    wrong = client.post("/v1/deployments/etd/deploy", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403 and json_of(wrong)["error"]["code"] == "forbidden"
    assert client.get("/v1/deployments").status_code == 200  # reads need no token


def test_deploy_canary_promote_rollback_and_reads(client: FlaskClient, engine: FakeEngine) -> None:
    first = client.post("/v1/deployments/etd/deploy", json={"version": 1, "mode": "full", "reason": "go"}, headers=AUTH)
    assert first.status_code == 201
    assert first.json == {
        "model": "etd",
        "revision": 1,
        "stable_version": "1",
        "candidate_version": None,
        "mode": "full",
        "weight": 100,
        "node_pins": {},
        "action": "deploy",
        "step": 3,
        "actor": "operator",
        "reason": "go",
        "created_at": "2025-03-01T12:00:00Z",
        "pushed": True,
        "push_reason": None,
    }
    canary = client.post(
        "/v1/deployments/etd/deploy", json={"version": "2", "mode": "canary", "weight": 10}, headers=AUTH
    )
    assert canary.status_code == 201 and (json_of(canary)["weight"], json_of(canary)["step"]) == (10, 0)
    assert json_of(client.post("/v1/deployments/etd/canary", json={"weight": 30}, headers=AUTH))["weight"] == 30
    # no samples yet, so the analysis says hold: a promote needs force
    promoted = client.post("/v1/deployments/etd/promote", json={"force": True}, headers=AUTH)
    assert promoted.status_code == 201 and json_of(promoted)["weight"] == 50
    pinned = client.post("/v1/deployments/etd/rollback", json={"node": "country_code=NL"}, headers=AUTH)
    assert json_of(pinned)["node_pins"] == {"country_code=NL": "1"} and json_of(pinned)["candidate_version"] == "2"

    routing = client.get("/v1/deployments/etd/routing").json
    assert routing == {
        "model": "etd",
        "revision": 5,
        "stable_version": "1",
        "candidate_version": "2",
        "mode": "canary",
        "weight": 50,
        "node_pins": {"country_code=NL": "1"},
    }
    assert engine.pushed[-1] == routing
    status = json_of(client.get("/v1/deployments/etd"))
    assert status["record"]["revision"] == 5
    assert status["analysis"]["verdict"] == "hold" and status["analysis"]["action"] is None
    analysis = json_of(client.get("/v1/deployments/etd/analysis"))
    assert set(analysis) >= {"verdict", "reasons", "metrics", "tests", "at"}
    assert set(analysis["metrics"]) == {"stable", "candidate"}
    assert [r["revision"] for r in json_of(client.get("/v1/deployments/etd/history"))["records"]] == [5, 4, 3, 2, 1]
    at = json_of(client.get("/v1/deployments/etd/history", query_string={"at": "2025-03-01T13:00:00+01:00"}))
    assert [r["revision"] for r in at["records"]] == [5]  # same instant as 12:00 UTC: all records were made then
    assert json_of(client.get("/v1/deployments"))["deployments"][0]["model"] == "etd"

    rolled = json_of(client.post("/v1/deployments/etd/rollback", json={"reason": "enough"}, headers=AUTH))
    assert (rolled["mode"], rolled["candidate_version"], rolled["reason"]) == ("full", None, "enough")
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'strata_comparative_eval_rollbacks_total{actor="operator",model="etd"} 2.0' in metrics


def _post(client: FlaskClient, action: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"/v1/deployments/etd/{action}", json=body or {}, headers=AUTH)


def test_after_a_full_promotion_rollback_returns_to_the_previous_stable_version(client: FlaskClient) -> None:
    _post(client, "deploy", {"version": 1, "mode": "full"})
    _post(client, "deploy", {"version": 2, "mode": "canary"})
    assert _post(client, "promote", {"full": True, "force": True}).json["stable_version"] == "2"

    rolled = _post(client, "rollback", {"reason": "v2 answers too late"})

    assert rolled.status_code == 201, rolled.json
    assert (rolled.json["stable_version"], rolled.json["mode"], rolled.json["action"]) == ("1", "full", "rollback")
    history = json_of(client.get("/v1/deployments/etd/history"))["records"]
    assert [(r["action"], r["stable_version"], r["candidate_version"]) for r in history] == [
        ("rollback", "1", None), ("promote", "2", None), ("deploy", "1", "2"), ("deploy", "1", None)
    ]  # fmt: skip
    assert history[0]["reason"] == "v2 answers too late" and history[0]["actor"] == "operator"
    # v2 was rolled back from: a second rollback has nowhere earlier to go, and never goes forward to v2
    again = _post(client, "rollback")
    assert again.status_code == 409 and "no earlier stable version" in again.json["error"]["message"]


def test_rollback_to_a_version_that_served_as_stable_before(client: FlaskClient) -> None:
    for version in (1, 2, 3):
        _post(client, "deploy", {"version": version, "mode": "full"})

    back = _post(client, "rollback", {"to_version": 1})
    assert back.status_code == 201 and (back.json["stable_version"], back.json["action"]) == ("1", "rollback")

    never = _post(client, "rollback", {"to_version": 7})
    assert never.status_code == 409 and never.json["error"]["field"] == "to_version"
    assert "never served as stable" in never.json["error"]["message"]
    assert _post(client, "rollback", {"to_version": 1}).status_code == 409  # it serves 100% already
    assert _post(client, "rollback", {"to_version": "x"}).json["error"]["field"] == "to_version"


def test_promote_against_a_hold_verdict_needs_force_and_the_record_says_it_was_forced(client: FlaskClient) -> None:
    _post(client, "deploy", {"version": 1, "mode": "full"})
    _post(client, "deploy", {"version": 2, "mode": "canary"})
    assert json_of(client.get("/v1/deployments/etd/analysis"))["verdict"] == "hold"  # no samples yet

    refused = _post(client, "promote", {"reason": "looks fine to me"})
    assert refused.status_code == 409
    assert "the analysis says hold for candidate v2" in refused.json["error"]["message"]
    assert "--force" in refused.json["error"]["message"]
    assert json_of(client.get("/v1/deployments/etd"))["record"]["revision"] == 2  # nothing changed

    forced = _post(client, "promote", {"reason": "looks fine to me", "force": True})
    assert forced.status_code == 201 and forced.json["weight"] == 25
    assert forced.json["reason"].startswith("[forced over analysis verdict hold (")
    assert forced.json["reason"].endswith("] looks fine to me")


def test_bad_input_names_the_field(client: FlaskClient) -> None:
    cases = [
        ("/v1/deployments/etd/deploy", {"version": 1, "mode": "blue"}, "mode"),
        ("/v1/deployments/etd/deploy", {"mode": "full"}, "version"),
        ("/v1/deployments/etd/deploy", {"version": "v2", "mode": "full"}, "version"),
        ("/v1/deployments/etd/deploy", {"version": 2, "mode": "canary", "weight": 150}, "weight"),
        ("/v1/deployments/etd/deploy", {"version": 2, "mode": "full", "weight": 5}, "weight"),
        ("/v1/deployments/bad%20name/deploy", {"version": 2, "mode": "full"}, "model"),
        ("/v1/deployments/etd/canary", {"weight": "x"}, "weight"),
    ]
    for path, body, field in cases:
        response = client.post(path, json=body, headers=AUTH)
        assert response.status_code == 400, (body, response.json)
        assert json_of(response)["error"]["field"] == field, response.json
    bad_at = client.get("/v1/deployments/etd/history?at=yesterday")
    assert bad_at.status_code == 400 and json_of(bad_at)["error"]["field"] == "at"


def test_unknown_model_or_version_is_404_and_state_conflicts_are_409(client: FlaskClient) -> None:
    assert client.get("/v1/deployments/etd").status_code == 404
    assert client.get("/v1/deployments/etd/routing").status_code == 404
    assert json_of(client.get("/v1/deployments/etd/history"))["error"]["code"] == "unknown_model"
    assert client.post("/v1/deployments/etd/promote", json={}, headers=AUTH).status_code == 404
    unknown = client.post("/v1/deployments/etd/deploy", json={"version": 99, "mode": "full"}, headers=AUTH)
    assert unknown.status_code == 404
    client.post("/v1/deployments/etd/deploy", json={"version": 1, "mode": "full"}, headers=AUTH)
    conflict = client.post("/v1/deployments/etd/rollback", json={}, headers=AUTH)
    assert conflict.status_code == 409 and "no candidate" in json_of(conflict)["error"]["message"]
    assert client.get("/v1/deployments/etd/analysis").status_code == 404


def test_validation_failure_is_422_and_the_stable_keeps_serving(client: FlaskClient, engine: FakeEngine) -> None:
    client.post("/v1/deployments/etd/deploy", json={"version": 1, "mode": "full"}, headers=AUTH)
    engine.refusals["2"] = ["prediction 3 is not finite"]
    refused = client.post("/v1/deployments/etd/deploy", json={"version": 2, "mode": "canary"}, headers=AUTH)
    assert refused.status_code == 422
    assert json_of(refused)["error"]["code"] == "validation_failed"
    assert "prediction 3 is not finite" in json_of(refused)["error"]["message"]
    assert json_of(client.get("/v1/deployments/etd/routing"))["revision"] == 1


def test_a_failed_push_answers_the_record_with_pushed_false(client: FlaskClient, engine: FakeEngine) -> None:
    engine.push_error = Unavailable("inference_engine unavailable: connection refused")
    response = client.post("/v1/deployments/etd/deploy", json={"version": 1, "mode": "full"}, headers=AUTH)
    assert response.status_code == 201
    assert json_of(response)["pushed"] is False and "connection refused" in json_of(response)["push_reason"]
    assert client.get("/v1/deployments/etd/routing").status_code == 200


def test_openapi_documents_the_api(client: FlaskClient) -> None:
    spec = json_of(client.get("/openapi.json"))
    for path in (
        "/v1/deployments/{model}/deploy",
        "/v1/deployments/{model}/history",
        "/v1/deployments/{model}/routing",
        "/v1/deployments/{model}/rollback",
        "/v1/deployments/{model}/analysis",
    ):
        assert path in spec["paths"], path
    deploy = spec["paths"]["/v1/deployments/{model}/deploy"]["post"]
    assert "422" in deploy["responses"] and deploy["security"] == [{"ServiceCredential": []}]


def test_without_a_token_setting_one_is_generated_privately(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, operator_token="")
    client = create_app(settings, engine=FakeEngine()).test_client()
    path = tmp_path / "var" / "comparative_eval" / "operator_token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = path.read_text().strip()
    assert len(token) >= 32
    ok = client.post(
        "/v1/deployments/etd/deploy", json={"version": 1, "mode": "full"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert ok.status_code == 201
    # a second start reads the same token
    create_app(settings, engine=FakeEngine())
    assert path.read_text().strip() == token


def test_the_service_consumes_and_judges_in_the_background(tmp_path: Path) -> None:
    log = LocalEventLog(tmp_path / "eventlog")
    settings = settings_for(tmp_path, analysis_in_service=True, analysis_tick_seconds=0.05, consumer_poll_seconds=0.05)
    app = create_app(settings, engine=FakeEngine(), event_log=log)
    background.start(app)  # what the server does in each worker after the fork
    client = app.test_client()
    client.post("/v1/deployments/etd/deploy", json={"version": 2, "mode": "canary"}, headers=AUTH)
    event = {
        "event_id": "p1",
        "event_time": "2099-01-01T00:00:00Z",
        "request_id": "r1",
        "model": "etd",
        "version": "2",
        "route": "canary",
        "instance": {"order__n_items": 1},
        "prediction": 31.0,
        "latency_ms": 3.0,
        "outcome": "ok",
    }
    log.publish(PREDICTIONS_TOPIC, [event])
    deadline = time.monotonic() + 10
    candidate: dict[str, Any] = {}
    while time.monotonic() < deadline and candidate.get("requests") != 1:
        time.sleep(0.05)
        candidate = json_of(client.get("/v1/deployments/etd/analysis"))["metrics"]["candidate"]
    assert candidate["requests"] == 1
    app.extensions["comparative_eval.deps"].close()
    assert json.loads(json.dumps(candidate))  # plain JSON
