"""A deterministic synthetic ``processed.etd_training_set`` written as Hive-partitioned Parquet."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FEATURES = [
    "order__day_of_week",
    "order__hour_of_day",
    "order__n_items",
    "order__subtotal",
    "restaurant_stats__avg_delivery_minutes_7d",
    "restaurant_stats__avg_prep_minutes_7d",
    "restaurant_stats__order_count_7d",
]


def make_training_set(rows: int, *, days: int = 21, restaurants: int = 30, seed: int = 3) -> pa.Table:
    rng = np.random.default_rng(seed)
    start = datetime(2024, 3, 1)
    offsets = np.sort(rng.uniform(0, days * 86400, rows))
    placed_at = [start + timedelta(seconds=float(s)) for s in offsets]
    restaurant = rng.integers(0, restaurants, rows)
    base_prep = 8 + (restaurant % 7) * 2.0
    n_items = rng.integers(1, 8, rows)
    hour = np.array([p.hour for p in placed_at])
    avg_prep = base_prep + rng.normal(0, 0.5, rows)
    avg_prep[rng.random(rows) < 0.05] = np.nan  # new restaurants have no stats yet
    label = base_prep + 1.5 * n_items + np.where((hour >= 18) & (hour <= 21), 6.0, 0.0) + rng.normal(0, 2, rows) + 12
    return pa.table(
        {
            "order_id": [f"o-{i:07d}" for i in range(rows)],
            "restaurant_id": [f"r-{r:06d}" for r in restaurant],
            "city_id": [f"c-{r % 3:04d}" for r in restaurant],
            "country_code": ["PT"] * rows,
            "placed_at": pa.array(placed_at, pa.timestamp("us")),
            "nominal_date": [p.strftime("%Y-%m-%d") for p in placed_at],
            "order__day_of_week": pa.array([p.weekday() for p in placed_at], pa.int32()),
            "order__hour_of_day": pa.array(hour, pa.int32()),
            "order__n_items": pa.array(n_items, pa.int64()),
            "order__subtotal": n_items * rng.uniform(6, 14, rows),
            "restaurant_stats__avg_delivery_minutes_7d": base_prep + 20 + rng.normal(0, 1, rows),
            "restaurant_stats__avg_prep_minutes_7d": pa.array(avg_prep, from_pandas=True),
            "restaurant_stats__order_count_7d": pa.array(rng.integers(0, 300, rows), pa.int64()),
            "label": label,
        }
    )


def write_training_set(location: Path, table: pa.Table) -> Path:
    """Lay the table out as the lake does: ``<location>/nominal_date=<day>/part-*.parquet``."""
    location.mkdir(parents=True, exist_ok=True)
    pq.write_to_dataset(table, root_path=str(location), partition_cols=["nominal_date"])
    return location
