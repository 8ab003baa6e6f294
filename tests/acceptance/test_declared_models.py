"""Two models nothing in Strata knows, added with YAML, SQL and CSV files only:

* ``trip_minutes``: bike-share ride duration — a regression with its own entity (the start station), categorical
  features (bike, rider, the station's kind), partitioned region -> district, its features on Chicago's clock;
* ``payment_fraud``: card-payment fraud — a global classifier (logistic regression) on UTC times with offsets.

Each is landed (``data_lake load``), its features built (SQL feature groups), its training set joined, trained,
registered, deployed, served online through ``POST /v1/models/<name>/predict``, canaried and rolled back — through
the commands and HTTP APIs an operator uses.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import duckdb
import pytest

from comparative_eval.entrypoints.cli import app as comparative_eval
from data_lake.entrypoints.cli import app as data_lake
from data_processing.entrypoints.cli import app as data_processing
from inference_engine.entrypoints.cli import app as inference_engine
from tests.acceptance import data
from tests.acceptance.conftest import TOKEN, Stack, start_services

pytestmark = pytest.mark.spark
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MODELS = ["trip_minutes", "payment_fraud"]


@pytest.fixture(scope="module")
def built(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Land, build, join, train v1 of both models and deploy them; then start the services."""
    files = tmp_path_factory.mktemp("files")
    data.write_station_status(files / "station_status.csv")
    data.write_trips(files / "trips.csv", data.read_status(files / "station_status.csv"))
    data.write_payments(files / "payments.csv")
    out: dict[str, Any] = {}
    out["landed"] = [
        stack.run(data_lake, "load", str(files / "station_status.csv"), "--table", "raw.station_status",
                  "--time", "observed_at=America/Chicago", "--json"),
        stack.run(data_lake, "load", str(files / "trips.csv"), "--table", "raw.trips",
                  "--time", "started_at=America/Chicago", "--json"),
        stack.run(data_lake, "load", str(files / "payments.csv"), "--table", "raw.payments", "--time", "paid_at",
                  "--json"),
    ]  # fmt: skip
    out["features"] = [stack.run(data_processing, "build-features", g) for g in ("station_status", "card_daily")]
    out["training_sets"] = {m: stack.run(data_processing, "training-set", m) for m in MODELS}
    out["trained"] = {m: stack.run(inference_engine, "train", m) for m in MODELS}
    out["deployed"] = {m: stack.run(inference_engine, "deploy", m, "--latest") for m in MODELS}
    out["recorded"] = stack.run(comparative_eval, "record-initial", *(f"{m}=1" for m in MODELS))
    start_services(stack, MODELS)
    return out


def test_files_land_as_raw_tables_and_sql_groups_build_their_features(built: dict[str, Any], stack: Stack) -> None:
    assert [landed["rows"] for landed in built["landed"]] == [26_840, 14_000, 10_000]
    assert all(feature["online_version"] == 1 for feature in built["features"])
    trips = built["training_sets"]["trip_minutes"]
    assert trips["rows"] == 14_000 and trips["engine"] == "local"
    location = stack.var / "lake" / "processed" / "trip_minutes_training_set"
    relation = duckdb.sql(f"SELECT * FROM read_parquet('{location}/*/*.parquet')")
    assert relation is not None  # None only for a statement that returns no rows, never a SELECT
    rows = relation.to_arrow_table()
    # categorical features stay text; the station's status was joined on Chicago's clock (TTL 3 h)
    assert rows.schema.field("trip__bike_type").type == "string"
    assert rows.schema.field("station_status__station_kind").type == "string"
    found = rows.column("station_status__bikes_available").null_count
    assert found < rows.num_rows * 0.05, "almost every trip starts within 3 h of its station's last status"


def test_both_models_train_register_and_beat_their_naive_baseline(built: dict[str, Any]) -> None:
    trips, fraud = built["trained"]["trip_minutes"], built["trained"]["payment_fraud"]
    print(json.dumps({"trip_minutes": trips, "payment_fraud": fraud}))  # shown by `pytest -rP`: the closing note's
    assert trips["partitioned"] and trips["nodes"] == 1 + 2 + 8  # global, 2 regions, 8 districts
    assert trips["mae"] < trips["baseline"]["mae"] * 0.8, trips
    assert fraud["nodes"] == 1 and fraud["auc"] > 0.75 and fraud["baseline"]["auc"] == pytest.approx(0.5), fraud


def _predict(stack: Stack, model: str, instances: list[dict[str, Any]], key: str | None = None) -> dict[str, Any]:
    headers = {"X-Routing-Key": key} if key is not None else {}
    with stack.http("data_processing") as client:
        answer = client.post(f"/v1/models/{model}/predict", json={"instances": instances}, headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


TRIPS = [
    {"station_id": "st-000", "started_at": "2025-03-31T00:20:00", "bike_type": "electric", "rider": "member",
     "region": "north", "district": "n1"},
    {"station_id": "st-021", "started_at": "2025-03-31T00:25:00", "bike_type": "classic", "rider": "casual",
     "region": "south", "district": "s1"},
    {"station_id": "st-999", "started_at": "2025-03-31T00:25:00", "bike_type": "cargo", "rider": "member",
     "region": "west", "district": "w9"},  # unknown station, bike and district: served by the fallbacks
]  # fmt: skip
PAYMENTS = [
    {"card_id": "card-0007", "paid_at": "2025-03-31T09:00:00Z", "amount": 18.5, "merchant_category": "groceries",
     "channel": "pos"},
    {"card_id": "card-0007", "paid_at": "2025-03-31T09:05:00+02:00", "amount": 950.0,
     "merchant_category": "gift_cards", "channel": "online"},
]  # fmt: skip


def test_the_models_are_served_online_with_the_training_expressions(built: dict[str, Any], stack: Stack) -> None:
    trips = _predict(stack, "trip_minutes", TRIPS)
    assert trips["model"] == "trip_minutes" and trips["version"] == "1"
    assert all(math.isfinite(p) and 2 < p < 60 for p in trips["predictions"])
    assert trips["nodes"][2] == "global"  # an unknown region falls back to the root
    assert trips["features_age_seconds"][0] is not None and trips["features_age_seconds"][2] is None
    fraud = _predict(stack, "payment_fraud", PAYMENTS)
    low, high = fraud["predictions"]
    assert 0 <= low < high <= 1, fraud  # a large online gift-card payment is the riskier one

    # training/serving consistency: what data_processing sent equals the features the engine scores offline
    with stack.http("data_processing") as client:
        read = client.get(
            "/v1/features",
            params={
                "entity": "st-000",
                "features": "@station_status:station_kind,@station_status:bikes_available",
                "at": "2025-03-31T05:20:00Z",
            },
        )
    assert read.status_code == 200, read.text
    assert read.json()["features"]["@station_status:station_kind"] == "hub"
    assert read.json()["feature_time"]["station_status"].endswith("-05:00")  # read on Chicago's clock (CDT)


def test_bad_requests_are_400s_naming_the_field_and_unknown_models_404(built: dict[str, Any], stack: Stack) -> None:
    with stack.http("data_processing") as client:
        missing = client.post("/v1/models/trip_minutes/predict", json={"instances": [{"bike_type": "classic"}]})
        typed = client.post("/v1/models/payment_fraud/predict",
                            json={"instances": [{"card_id": "c", "amount": "lots"}]})  # fmt: skip
        naive = client.post("/v1/models/payment_fraud/predict",
                            json={"instances": [{"card_id": "c", "paid_at": "2025-03-31T09:00:00"}]})  # fmt: skip
        unknown = client.post("/v1/models/flights/predict", json={"instances": [{}]})
    assert (missing.status_code, missing.json()["error"]["field"]) == (400, "instances.0.station_id")
    assert (typed.status_code, typed.json()["error"]["field"]) == (400, "instances.0.amount")
    assert naive.status_code == 400 and "declares no time zone" in naive.json()["error"]["message"]
    assert unknown.status_code == 404 and "flights" in unknown.json()["error"]["message"]


@pytest.mark.parametrize("model", MODELS)
def test_a_second_version_is_canaried_and_rolled_back(built: dict[str, Any], stack: Stack, model: str) -> None:
    params = ["--param", "max_depth=2"] if model == "trip_minutes" else []
    second = stack.run(inference_engine, "train", model, *params)
    assert second["version"] == 2
    _write_samples(stack, model)
    with stack.http("comparative_eval") as client:
        canary = client.post(f"/v1/deployments/{model}/deploy", headers=AUTH,
                             json={"version": "2", "mode": "canary", "weight": 50, "reason": "acceptance"})  # fmt: skip
        assert canary.status_code == 201, canary.text
        served = {_predict(stack, model, _instances(model), key=f"rider-{n}")["version"] for n in range(40)}
        assert served == {"1", "2"}  # sticky by routing key: both versions answer
        rolled = client.post(f"/v1/deployments/{model}/rollback", headers=AUTH, json={"reason": "acceptance"})
        assert rolled.status_code == 201, rolled.text
        history = client.get(f"/v1/deployments/{model}/history").json()["records"]
    after = {_predict(stack, model, _instances(model), key=f"rider-{n}")["version"] for n in range(40)}
    assert after == {"1"}
    assert [record["mode"] for record in history[:2]] == ["full", "canary"]


def _instances(model: str) -> list[dict[str, Any]]:
    return TRIPS[:1] if model == "trip_minutes" else PAYMENTS[:1]


def _write_samples(stack: Stack, model: str) -> None:
    """Validation before traffic scores a recorded sample: the training set's rows as the engine receives them."""
    location = stack.var / "lake" / "processed" / f"{model}_training_set"
    relation = duckdb.sql(f"SELECT * FROM read_parquet('{location}/*/*.parquet') LIMIT 50")
    assert relation is not None  # None only for a statement that returns no rows, never a SELECT
    rows = relation.to_arrow_table().to_pylist()
    instances = [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()} for row in rows]
    samples = stack.var / "comparative_eval" / "samples"
    samples.mkdir(parents=True, exist_ok=True)
    (samples / f"{model}.json").write_text(json.dumps({"instances": instances}, default=str))
