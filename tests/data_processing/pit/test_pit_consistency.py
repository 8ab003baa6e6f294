"""Training/serving consistency: what the estimate service sends the model for (restaurant, t) equals the
training set's row for an order of that restaurant at t — stored, order-context and DSL-derived features."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from data_processing.adapters.online_sqlite import SqliteOnlineStore
from data_processing.domain.online import OnlineRow
from data_processing.domain.orders import OrderContext
from data_processing.jobs.pit_join import GroupRows
from data_processing.jobs.training_set import build_training_set
from tests.data_processing.fakes import RecordingInferenceEngine
from tests.data_processing.pit.cases import BATCH
from tests.data_processing.pit.specs import ETD, ETD_FEATURE_SET, etd_estimator

DAY0 = datetime(2025, 1, 10)
STATS = ("order_count_7d", "avg_prep_minutes_7d", "avg_delivery_minutes_7d")
# r-1 every day, r-2 every other day (so its rows expire), r-3 never; r-4 has a zero count and unknown means
OFFLINE = [
    *(("r-1", DAY0 + timedelta(days=d), 10 + d, 8.0 + d, 30.0 + d) for d in range(6)),
    *(("r-2", DAY0 + timedelta(days=d), 3, 12.5, 41.0) for d in (0, 3)),
    ("r-4", DAY0, 0, None, None),
]
PROBES = [DAY0 + timedelta(hours=h) for h in range(0, 24 * 7, 7)]


def _offline() -> pa.Table:
    return pa.table(
        {
            "restaurant_id": [r[0] for r in OFFLINE],
            "feature_time": pa.array([r[1] for r in OFFLINE], pa.timestamp("us")),
            "created_at": pa.array([datetime(2025, 3, 1)] * len(OFFLINE), pa.timestamp("us")),
            **{name: pa.array([r[2 + i] for r in OFFLINE]) for i, name in enumerate(STATS)},
        }
    )


def _bulk_load_as_of(store: SqliteOnlineStore, as_of: datetime) -> None:
    """What the daily build-features job loads: each restaurant's newest row with feature_time <= as_of."""
    newest: dict[str, tuple] = {}
    for row in OFFLINE:
        if row[1] <= as_of and (row[0] not in newest or row[1] > newest[row[0]][1]):
            newest[row[0]] = row
    rows = [OnlineRow(r[0], r[1], dict(zip(STATS, r[2:], strict=True))) for r in newest.values()]
    store.load_version("restaurant_stats", rows)


@pytest.mark.parametrize("restaurant", ["r-1", "r-2", "r-3", "r-4"])
def test_served_features_equal_the_training_join(restaurant: str, tmp_path: Path) -> None:
    store = SqliteOnlineStore(tmp_path / "online.db")
    engine = RecordingInferenceEngine()
    estimator = etd_estimator(store, engine)
    orders = pa.table(
        {
            "order_id": [f"o-{i}" for i in range(len(PROBES))],
            "restaurant_id": [restaurant] * len(PROBES),
            "city_id": ["c-1"] * len(PROBES),
            "country_code": ["ES"] * len(PROBES),
            "placed_at": pa.array(PROBES, pa.timestamp("us")),
            "n_items": [2 + i % 3 for i in range(len(PROBES))],
            "subtotal": [10.0 + i for i in range(len(PROBES))],
            "delivery_minutes": [30.0] * len(PROBES),
        }
    )
    training = build_training_set(orders, [GroupRows(BATCH, _offline())], ETD).to_pylist()

    for index, placed_at in enumerate(PROBES):
        _bulk_load_as_of(store, placed_at)
        order = OrderContext(restaurant, "c-1", "ES", placed_at, n_items=2 + index % 3, subtotal=10.0 + index)
        estimator.estimate(order)
        served = dict(engine.instances[-1])
        # the partition keys travel beside the features so a partitioned model can route the request, the entity
        # and the nominal time so the skew monitor can read the offline value of the same
        assert (served.pop("country_code"), served.pop("city_id")) == ("ES", "c-1")
        at = f"{placed_at.isoformat()}+00:00"
        assert (served.pop("restaurant_id"), served.pop("__nominal_time")) == (restaurant, at)
        assert served == {column: training[index][column] for column in ETD_FEATURE_SET.columns}, placed_at
    seen = {row["restaurant_stats__order_count_7d"] is None for row in training}
    # the probes cover fresh rows, expired rows (r-2 between its days, r-4 after 2 days) and none at all
    assert seen == {"r-1": {False}, "r-2": {False, True}, "r-3": {True}, "r-4": {False, True}}[restaurant]
