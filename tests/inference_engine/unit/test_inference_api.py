"""The HTTP API over a fake registry: listing, predicting, version routing, reload, readiness, metrics."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from inference_fakes import FakeRegistry, constant_booster

from inference_engine.entrypoints.app import create_app
from inference_engine.settings import Settings
from strata_kernel import background
from strata_kernel.contracts.auth import OPERATOR
from tests.support import answers_lean_and_through_flask, as_caller, json_of

INSTANCE = {"a__x": 1.0, "a__y": None, "b__z": 2.5}


def wait_ready(client: FlaskClient, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get("/readyz")
        if response.status_code == 200:
            return dict(json_of(response))
        time.sleep(0.02)
    raise AssertionError(f"not ready: {client.get('/readyz').json}")


@pytest.fixture
def client(settings: Settings, registry: FakeRegistry) -> FlaskClient:
    app = create_app(settings, registry=registry)
    background.start(app)  # what the server does in each worker after the fork
    test_client = as_caller(app.test_client(), settings, OPERATOR)
    wait_ready(test_client)
    return test_client


def predict(client: FlaskClient, path: str, instances: list[dict[str, Any]] | None = None) -> Any:
    return client.post(path, json={"instances": instances if instances is not None else [INSTANCE]})


def test_lists_the_serving_version_with_its_alias_and_features(client: FlaskClient) -> None:
    models = json_of(client.get("/v1/models"))["models"]

    assert [(m["name"], m["version"], m["alias"]) for m in models] == [("etd", "1", "production")]
    assert models[0]["features"] == ["a__x", "a__y", "b__z"]
    assert client.get("/v1/models/etd").json == models[0]


def test_an_unknown_model_is_a_404(client: FlaskClient) -> None:
    assert client.get("/v1/models/chatbot").status_code == 404
    response = predict(client, "/v1/models/chatbot/predict")

    assert response.status_code == 404
    assert response.json["error"]["code"] == "model_not_found"


def test_predict_uses_the_production_version(client: FlaskClient) -> None:
    response = predict(client, "/v1/models/etd/predict", [INSTANCE, INSTANCE])

    assert response.status_code == 200
    assert response.json["model"] == "etd"
    assert response.json["version"] == "1"
    assert response.json["predictions"] == pytest.approx([10.0, 10.0], abs=0.01)


def test_a_version_route_loads_that_version_once(client: FlaskClient, registry: FakeRegistry) -> None:
    fetches_before = registry.fetches
    first = predict(client, "/v1/models/etd/versions/2/predict")
    second = predict(client, "/v1/models/etd/versions/2/predict")

    assert first.json["version"] == "2"
    assert first.json["predictions"] == pytest.approx([20.0], abs=0.01)
    assert second.json == first.json
    assert registry.fetches == fetches_before + 1
    # the production route is untouched by version routing
    assert predict(client, "/v1/models/etd/predict").json["version"] == "1"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/models/etd/versions/9/predict",
        "/v1/models/etd/versions/latest/predict",
        "/v1/models/etd/versions/%C2%B2/predict",  # "²" passes str.isdigit(), then int() fails: was a 500
        "/v1/models/etd/versions/%D9%A1/predict",  # an Arabic-Indic one
        "/v1/models/etd/versions/9999999999999999999999/predict",
    ],
)
def test_an_unknown_version_is_a_404(client: FlaskClient, path: str) -> None:
    response = predict(client, path)

    assert response.status_code == 404
    assert response.json["error"]["code"] == "model_version_not_found"


@pytest.mark.parametrize(
    "version",
    [
        "%C2%B2",  # "²" passes str.isdigit(), then int() fails: was a 500
        "%D9%A1",  # an Arabic-Indic one: int() read it as version 1
        "1" * 5000,  # over int()'s 4300 digits: was a 500
    ],
)
def test_a_reference_profile_of_a_non_ascii_or_huge_version_is_a_404(client: FlaskClient, version: str) -> None:
    response = client.get(f"/v1/models/etd/versions/{version}/reference")

    assert response.status_code == 404
    assert json_of(response)["error"]["code"] == "model_version_not_found"


def test_a_missing_feature_is_a_400_naming_it(client: FlaskClient) -> None:
    response = predict(client, "/v1/models/etd/predict", [{"a__x": 1.0, "a__y": 2.0}])

    assert response.status_code == 400
    assert response.json["error"]["field"] == "instances.0.b__z"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"instances": []}, "instances"), ({"rows": [INSTANCE]}, "instances"), ([INSTANCE], "body")],
)
def test_a_malformed_body_is_a_400(client: FlaskClient, body: Any, field: str) -> None:
    response = client.post("/v1/models/etd/predict", json=body)

    assert response.status_code == 400
    assert json_of(response)["error"]["field"] == field


def test_more_than_1000_instances_are_refused(client: FlaskClient) -> None:
    response = predict(client, "/v1/models/etd/predict", [INSTANCE] * 1001)

    assert response.status_code == 400
    assert "1..1000" in response.json["error"]["message"]


def test_reload_follows_the_moved_alias(client: FlaskClient, registry: FakeRegistry) -> None:
    registry.set_alias("etd", "production", 2)

    reloaded = client.post("/v1/models/etd/reload")

    assert reloaded.status_code == 200
    assert json_of(reloaded)["version"] == "2"
    response = predict(client, "/v1/models/etd/predict")
    assert (response.json["version"], response.json["predictions"]) == ("2", pytest.approx([20.0], abs=0.01))


def test_metrics_count_predictions_by_model_and_version(client: FlaskClient) -> None:
    predict(client, "/v1/models/etd/predict", [INSTANCE] * 3)

    metrics = client.get("/metrics").get_data(as_text=True)

    assert 'strata_inference_engine_predictions_total{model="etd",version="1"} 3.0' in metrics
    assert "strata_inference_engine_predict_seconds_count" in metrics


def test_not_ready_until_the_alias_exists_then_loads_by_itself(settings: Settings, tmp_path: Any) -> None:
    registry = FakeRegistry(tmp_path / "empty")
    registry.add("etd", constant_booster(7.0))
    app = create_app(settings, registry=registry)
    background.start(app)
    client = as_caller(app.test_client(), settings, OPERATOR)

    assert client.get("/healthz").status_code == 200
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    assert "etd" in json_of(not_ready)["reasons"][0]
    assert "production" in json_of(not_ready)["reasons"][0]

    registry.set_alias("etd", "production", 1)  # a deploy after the server started
    wait_ready(client)
    assert predict(client, "/v1/models/etd/predict").json["predictions"] == pytest.approx([7.0], abs=0.01)


def test_a_configured_model_still_loading_is_a_503_with_retry_after_and_an_unknown_one_a_404(
    settings: Settings, tmp_path: Any
) -> None:
    registry = FakeRegistry(tmp_path / "empty")
    registry.add("etd", constant_booster(7.0))  # no production alias yet: the engine keeps loading
    app = create_app(settings, registry=registry)
    client = as_caller(app.test_client(), settings, OPERATOR)

    loading = predict(client, "/v1/models/etd/predict")
    assert loading.status_code == 503 and loading.headers["Retry-After"] == "2"
    assert loading.json["error"]["code"] == "model_loading"
    assert "production" in loading.json["error"]["message"]
    assert json_of(client.get("/v1/models/etd"))["error"]["code"] == "model_loading"
    assert predict(client, "/v1/models/chatbot/predict").status_code == 404


def test_while_not_ready_readyz_says_what_is_loading_and_that_a_missing_alias_will_not_come_by_waiting(
    settings: Settings, tmp_path: Any
) -> None:
    registry = FakeRegistry(tmp_path / "empty")
    registry.add("etd", constant_booster(7.0))
    app = create_app(settings, registry=registry)
    background.start(app)  # what the server does in each worker after the fork
    client = app.test_client()

    deadline = time.monotonic() + 10
    while (progress := json_of(client.get("/readyz")).get("progress", {})).get("state") != "failed":
        assert time.monotonic() < deadline, progress
        time.sleep(0.02)
    assert progress["done"] == 0 and progress["total"] == 1
    assert "etd" in progress["step"] and "production" in progress["step"]

    registry.set_alias("etd", "production", 1)
    assert "progress" not in wait_ready(client)


def test_with_several_workers_ready_means_every_worker_is(settings: Settings, registry: FakeRegistry) -> None:
    """Any worker may answer /readyz: one that has loaded its models must not speak for one still loading."""
    from inference_engine.loading import WorkerBoard, WorkerProgress

    two = settings.model_copy(update={"workers": 2})
    app = create_app(two, registry=registry)
    background.start(app)
    client = app.test_client()
    board = WorkerBoard.for_master(two.var_dir / "run", 2)
    deadline = time.monotonic() + 10
    while "1 of 2 workers started" not in json_of(client.get("/readyz")).get("reasons", [""])[0]:
        assert time.monotonic() < deadline, client.get("/readyz").json
        time.sleep(0.02)

    # a second worker of the same gunicorn master (this test process stands in for it: it is alive)
    other = WorkerBoard(board.directory, 2, pid=os.getppid())
    other.write(WorkerProgress("loading", "loading model etd (1 of 1)", 0, 1))
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    assert json_of(not_ready)["reasons"] == ["1 of 2 workers still loading: loading model etd (1 of 1)"]
    assert json_of(not_ready)["progress"]["step"] == "loading model etd (1 of 1)"

    other.write(WorkerProgress("ready", "all models loaded", 1, 1))
    assert client.get("/readyz").status_code == 200


def test_versions_lists_every_registered_version_and_the_kind_of_the_serving_one(
    client: FlaskClient, registry: FakeRegistry
) -> None:
    from dataclasses import replace

    newer = registry.versions["etd"][2]
    registry.versions["etd"][2] = replace(newer, framework="tensorflow", tags={"metric_mae": "3.5", "run_id": "r2"})

    body = json_of(client.get("/v1/models/etd/versions"))

    assert (body["model"], body["kind"], body["serving_version"]) == ("etd", "xgboost", "1")
    assert [(v["version"], v["framework"]) for v in body["versions"]] == [("2", "tensorflow"), ("1", "xgboost")]
    assert body["versions"][0]["metrics"] == {"mae": 3.5} and body["versions"][0]["run_id"] == "r2"
    missing = client.get("/v1/models/churn/versions")
    assert missing.status_code == 404 and json_of(missing)["error"]["code"] == "model_not_found"


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        ("/v1/models/etd/predict", {"instances": [INSTANCE]}, {"X-Routing-Key": "order-1"}),
        ("/v1/models/chatbot/predict", {"instances": [INSTANCE]}, {}),
        ("/v1/models/etd/predict", {"instances": [{"a__x": 1.0}]}, {}),
        ("/v1/models/etd/predict", b'{"instances": [', {}),
        ("/v1/models/etd/predict", {"instances": [INSTANCE]}, {"X-Routing-Key": "k" * 300}),
        ("/v1/models/etd/predict", {"instances": [INSTANCE]}, {"Authorization": "Bearer guessed"}),
        ("/v1/models/etd/versions/2/predict", {"instances": [INSTANCE]}, {}),
        ("/v1/models/etd/versions/abc/predict", {"instances": [INSTANCE]}, {}),
        ("/v1/models/etd/versions/99/predict", {"instances": [INSTANCE]}, {}),
        ("/v1/models/etd/versions/1/predict", {"rows": []}, {}),
    ],
    ids=[
        "valid",
        "unknown model",
        "missing feature",
        "malformed JSON",
        "long routing key",
        "unknown caller",
        "a version",
        "not a version number",
        "unknown version",
        "a version, bad body",
    ],
)
def test_the_predict_routes_answer_lean_as_through_flask(
    settings: Settings, registry: FakeRegistry, path: str, body: Any, headers: dict[str, str]
) -> None:
    def make_client() -> FlaskClient:
        app = create_app(settings, registry=registry)
        background.start(app)
        ready = as_caller(app.test_client(), settings, OPERATOR)
        wait_ready(ready)
        return ready

    def send(client: FlaskClient) -> Any:
        data = body if isinstance(body, bytes) else json.dumps(body)
        sent = {"X-Request-Id": "req-alike", **headers}
        return client.post(path, data=data, content_type="application/json", headers=sent)

    seen = answers_lean_and_through_flask(make_client, send)

    assert seen["lean"] == {**seen["flask"], "dispatched": False}
    assert seen["flask"]["dispatched"] and seen["flask"]["status"] != "500 INTERNAL SERVER ERROR"
