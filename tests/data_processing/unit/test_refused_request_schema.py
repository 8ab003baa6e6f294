"""data_processing's own request-schema monitor: every refused body names each faulty field and its kind in
``strata_monitor_schema_violations_total`` (the series StrataSchemaChanged reads), accepted bodies cost nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from data_processing.entrypoints.app import create_app
from data_processing.settings import Settings
from strata_kernel.contracts.etd import EstimateRequest, InvalidOrder, estimate_request_violations
from tests.data_processing.fakes import RecordingInferenceEngine
from tests.data_processing.unit.test_dp_app import BODY, _loaded_store
from tests.support import as_caller

SERIES = "strata_monitor_schema_violations_total"


def _client(settings: Settings) -> FlaskClient:
    app = create_app(settings, online_store=_loaded_store(), inference_engine=RecordingInferenceEngine(value=30.0))
    return as_caller(app.test_client(), settings, "business_logic")


def _violations(client: FlaskClient) -> dict[tuple[str, str, str], float]:
    """(model, field, kind) -> count; component and layer come from the scrape target, as for any service metric."""
    found = {}
    for family in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True)):
        for sample in family.samples:
            if sample.name == SERIES:
                labels = sample.labels
                assert (labels["flow"], labels["version"]) == ("runtime", "")
                assert "component" not in labels
                found[(labels["model"], labels["field"], labels["kind"])] = sample.value
    return found


def test_a_renamed_and_a_retyped_field_are_each_named(settings: Settings) -> None:
    client = _client(settings)
    renamed = {key: value for key, value in BODY.items() if key != "n_items"} | {"item_count": 2, "subtotal": "18"}

    answers = [client.post("/v1/etd/estimate", json=renamed).status_code for _ in range(3)]

    assert answers == [400, 400, 400]
    assert _violations(client) == {
        ("etd", "item_count", "unknown"): 3,
        ("etd", "n_items", "missing"): 3,
        ("etd", "subtotal", "retyped"): 3,
    }


def test_accepted_requests_leave_no_series(settings: Settings) -> None:
    client = _client(settings)

    assert client.post("/v1/etd/estimate", json=BODY).status_code == 200
    assert _violations(client) == {}


def test_a_batch_of_alike_instances_counts_once_per_request(settings: Settings) -> None:
    client = _client(settings)
    instance = {key: value for key, value in BODY.items() if key != "n_items"} | {"basket": 2}

    response = client.post("/v1/models/etd/predict", json={"instances": [instance] * 5})

    assert response.status_code == 400
    # n_items is a context field: null or absent is a missing value the model has a rule for, not a fault
    assert _violations(client) == {("etd", "basket", "unknown"): 1}


def test_a_broken_envelope_is_named(settings: Settings) -> None:
    client = _client(settings)

    assert client.post("/v1/models/etd/predict", json={"rows": [BODY]}).status_code == 400
    assert client.post("/v1/models/etd/predict", json={"instances": "all"}).status_code == 400

    assert _violations(client) == {
        ("etd", "rows", "unknown"): 1,
        ("etd", "instances", "missing"): 1,
        ("etd", "instances", "retyped"): 1,
    }


def test_an_undeclared_model_is_a_404_and_no_series(settings: Settings) -> None:
    client = _client(settings)

    assert client.post("/v1/models/nope/predict", json={"instances": [BODY]}).status_code == 404
    assert _violations(client) == {}


def test_junk_field_names_cannot_grow_the_series_without_bound(settings: Settings) -> None:
    client = _client(settings)
    for index in range(30):
        assert client.post("/v1/etd/estimate", json=BODY | {f"junk{index}": 1}).status_code == 200  # ignored
        assert client.post("/v1/etd/estimate", json={f"junk{index}": 1}).status_code == 400

    unknown = {field: count for (_, field, kind), count in _violations(client).items() if kind == "unknown"}

    assert len(unknown) == 21
    assert unknown["(other)"] == 10


@pytest.mark.parametrize(
    "change",
    [{}, {"n_items": 0}, {"n_items": True}, {"placed_at": "soon"}, {"restaurant_id": " "}, {"subtotal": -1},
     {"customer_id": "a b"}, {"customer_id": "c-9"}, {"city_id": None}, {"extra": 1}],
)  # fmt: skip
def test_the_monitor_and_the_parser_agree_on_every_field(change: dict[str, Any]) -> None:
    body = BODY | change
    try:
        EstimateRequest.from_wire(body)
        refused_field = None
    except InvalidOrder as refused:
        refused_field = refused.field

    found = estimate_request_violations(body)

    assert [v.field for v in found if v.kind != "unknown"][:1] == ([refused_field] if refused_field else [])
