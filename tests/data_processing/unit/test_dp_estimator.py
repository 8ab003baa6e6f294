from __future__ import annotations

import math
from datetime import datetime

import pytest

from data_processing.domain.online import OnlineRow
from data_processing.domain.orders import OrderContext
from data_processing.errors import InferenceEngineUnavailable
from data_processing.services import EtdEstimator
from tests.data_processing.fakes import InMemoryOnlineStore, RecordingInferenceEngine
from tests.data_processing.pit.specs import ETD_FEATURE_SET, etd_estimator

STATS = {"order_count_7d": 12, "avg_prep_minutes_7d": 11.5, "avg_delivery_minutes_7d": 33.25}


def _order(placed_at: datetime, restaurant_id: str = "r-1") -> OrderContext:
    return OrderContext(restaurant_id, "c-1", "ES", placed_at, n_items=3, subtotal=27.9)


def _estimator(store: InMemoryOnlineStore, engine: RecordingInferenceEngine) -> EtdEstimator:
    return etd_estimator(store, engine)


@pytest.fixture
def store() -> InMemoryOnlineStore:
    store = InMemoryOnlineStore()
    store.load_version("restaurant_stats", [OnlineRow("r-1", datetime(2025, 1, 10), dict(STATS))])
    return store


def test_estimate_sends_the_model_its_full_feature_vector(store: InMemoryOnlineStore) -> None:
    engine = RecordingInferenceEngine(value=29.0)

    result = _estimator(store, engine).estimate(_order(datetime(2025, 1, 10, 19, 30)))

    assert engine.instances == [
        {
            "order__hour_of_day": 19.0,
            "order__day_of_week": 4.0,  # Friday
            "order__n_items": 3.0,
            "order__subtotal": 27.9,
            "restaurant_stats__order_count_7d": 12,
            "restaurant_stats__avg_prep_minutes_7d": 11.5,
            "restaurant_stats__avg_delivery_minutes_7d": 33.25,
            "derived__prep_share_7d": 11.5 / 33.25,
            "derived__log_order_count_7d": math.log(13),
            "country_code": "ES",  # the partition keys, for routing in a partitioned model
            "city_id": "c-1",
            # which entity at which time (UTC): the prediction log carries them to the skew monitor
            "restaurant_id": "r-1",
            "__nominal_time": "2025-01-10T19:30:00+00:00",
        }
    ]
    assert result.to_wire() == {
        "etd_minutes": 29.0,
        "model": "etd",
        "version": "3",
        "features_age_seconds": 19.5 * 3600,
    }


def test_a_restaurant_without_features_gets_nulls_not_an_error(store: InMemoryOnlineStore) -> None:
    engine = RecordingInferenceEngine()

    result = _estimator(store, engine).estimate(_order(datetime(2025, 1, 10, 12), restaurant_id="r-new"))

    assert [engine.instances[0][c] for c in ETD_FEATURE_SET.columns[4:]] == [None, None, None, None, 0.0]
    assert engine.instances[0]["order__n_items"] == 3.0
    assert "features_age_seconds" not in result.to_wire()


@pytest.mark.parametrize(
    "placed_at",
    [datetime(2025, 1, 12, 0, 0, 1), datetime(2025, 1, 9, 23, 59)],
    ids=["older-than-ttl", "row-from-the-future"],
)
def test_rows_the_training_join_would_not_use_are_served_as_nulls(
    store: InMemoryOnlineStore, placed_at: datetime
) -> None:
    engine = RecordingInferenceEngine()

    _estimator(store, engine).estimate(_order(placed_at))

    assert engine.instances[0]["restaurant_stats__order_count_7d"] is None


def test_a_row_exactly_ttl_old_is_still_used(store: InMemoryOnlineStore) -> None:
    engine = RecordingInferenceEngine()

    _estimator(store, engine).estimate(_order(datetime(2025, 1, 12)))

    assert engine.instances[0]["restaurant_stats__order_count_7d"] == 12


def test_inference_engine_down_is_reported_as_unavailable(store: InMemoryOnlineStore) -> None:
    with pytest.raises(InferenceEngineUnavailable) as raised:
        _estimator(store, RecordingInferenceEngine(down=True)).estimate(_order(datetime(2025, 1, 10, 12)))
    assert (raised.value.status, raised.value.code) == (503, "inference_engine_unavailable")
