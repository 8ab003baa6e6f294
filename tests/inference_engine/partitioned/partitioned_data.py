"""Tiny synthetic data sets for partitioned training, written as lake-style Hive-partitioned Parquet."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

# country -> {city: orders}; NL/c-ams has a strong local effect, PT/c-lis too few rows, FR whole country tiny
ETD_LAYOUT: dict[str, dict[str, int]] = {
    "NL": {"c-ams": 900, "c-rot": 500},
    "PT": {"c-opo": 700, "c-lis": 60},
    "FR": {"c-par": 80, "c-lyo": 40},
}
ETD_FEATURES = ["order__hour_of_day", "order__n_items", "restaurant_stats__avg_prep_minutes_7d"]


def etd_table(seed: int = 5, days: int = 21) -> pa.Table:
    rng = np.random.default_rng(seed)
    country_list: list[str] = []
    city_list: list[str] = []
    for country, layout in ETD_LAYOUT.items():
        for city, count in layout.items():
            country_list += [country] * count
            city_list += [city] * count
    rows = len(city_list)
    order = rng.permutation(rows)
    countries, cities = np.array(country_list)[order], np.array(city_list)[order]
    start = datetime(2024, 3, 1)
    offsets = np.sort(rng.uniform(0, days * 86400, rows))
    placed_at = [start + timedelta(seconds=float(s)) for s in offsets]
    hour = np.array([p.hour for p in placed_at])
    n_items = rng.integers(1, 8, rows).astype(float)
    prep = rng.uniform(6, 20, rows)
    # the local effect only a city model can learn: Amsterdam's baskets take far longer per item
    per_item = np.where(cities == "c-ams", 4.0, 1.0)
    label = 10 + prep + per_item * n_items + np.where(countries == "PT", 5.0, 0.0) + rng.normal(0, 1, rows)
    return pa.table(
        {
            "order_id": [f"o-{i:06d}" for i in range(rows)],
            "restaurant_id": [f"r-{i % 17:04d}" for i in range(rows)],
            "country_code": countries.tolist(),
            "city_id": cities.tolist(),
            "placed_at": pa.array(placed_at, pa.timestamp("us")),
            "nominal_date": [p.strftime("%Y-%m-%d") for p in placed_at],
            "order__hour_of_day": pa.array(hour, pa.int32()),
            "order__n_items": n_items,
            "restaurant_stats__avg_prep_minutes_7d": prep,
            "label": label,
        }
    )


def churn_table(seed: int = 9, days: int = 20) -> pa.Table:
    """A second data set: region -> store (integer ids), a binary label, features without ``__``."""
    rng = np.random.default_rng(seed)
    stores = {"north": [11, 12, 13], "south": [21, 22]}
    region_list, store_list = [], []
    for region, ids in stores.items():
        for store in ids:
            count = 40 if store == 13 else 300
            region_list += [region] * count
            store_list += [store] * count
    rows = len(store_list)
    start = datetime(2024, 5, 1)
    seen = [start + timedelta(seconds=float(s)) for s in np.sort(rng.uniform(0, days * 86400, rows))]
    tenure = rng.uniform(0, 36, rows)
    spend = rng.uniform(5, 200, rows)
    regions = np.array(region_list)
    logit = 1.5 - 0.12 * tenure + np.where(regions == "south", 0.02 * spend - 2, -0.005 * spend)
    churned = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pa.table(
        {
            "region": region_list,
            "store": pa.array(store_list, pa.int64()),
            "seen_at": pa.array(seen, pa.timestamp("us")),
            "day": [s.strftime("%Y-%m-%d") for s in seen],
            "tenure_months": tenure,
            "monthly_spend": spend,
            "churned": pa.array(churned, pa.int64()),
        }
    )


def write_lake_table(location: Path, table: pa.Table, partition_column: str) -> Path:
    location.mkdir(parents=True, exist_ok=True)
    pq.write_to_dataset(table, root_path=str(location), partition_cols=[partition_column])
    return location
