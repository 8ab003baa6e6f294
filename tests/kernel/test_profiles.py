"""The profile module: exact statistics, sketch-backed ones within their stated error, JSON, merging, comparing."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pyarrow as pa
import pytest

from strata_kernel.profiles import (
    ProfileFormatError,
    TableProfile,
    compare_profiles,
    conform,
    merge_profiles,
    profile_arrow,
)
from strata_kernel.profiles.sketches import kll_rank_error

N = 20_000


def orders(n: int = N, seed: int = 1, shift: float = 0.0, cities: tuple[str, ...] = ("c-1", "c-2", "c-3")) -> pa.Table:
    rng = np.random.default_rng(seed)
    minutes = rng.normal(30 + shift, 5, n)
    minutes[rng.random(n) < 0.05] = np.nan
    items = pa.array(rng.integers(1, 6, n), mask=rng.random(n) < 0.1)
    placed = np.datetime64("2026-11-01") + rng.integers(0, 86_400 * 7, n).astype("timedelta64[s]")
    return pa.table({
        "order_id": pa.array([f"o-{seed}-{i}" for i in range(n)]),
        "city_id": pa.array(np.array(cities)[rng.integers(0, len(cities), n)]),
        "delivery_minutes": pa.array(minutes),
        "n_items": items,
        "placed_at": pa.array(placed.astype("datetime64[us]")),
        "express": pa.array(rng.random(n) < 0.25),
    })  # fmt: skip


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return orders()


@pytest.fixture(scope="module")
def profile(table: pa.Table) -> TableProfile:
    return profile_arrow(table)


def test_exact_statistics_match_the_data(table: pa.Table, profile: TableProfile) -> None:
    minutes = table.column("delivery_minutes").to_numpy()
    column = profile.column("delivery_minutes")
    assert column is not None and column.kind == "numeric"
    assert (column.count, column.nulls, column.nan) == (N, 0, int(np.isnan(minutes).sum()))
    assert column.minimum == np.nanmin(minutes) and column.maximum == np.nanmax(minutes)
    assert column.summary["mean"] == pytest.approx(np.nanmean(minutes), rel=1e-12)
    assert column.summary["std"] == pytest.approx(np.nanstd(minutes, ddof=1), rel=1e-9)
    items = profile.column("n_items")
    assert items is not None and items.nulls == table.column("n_items").null_count
    assert items.missing_rate == pytest.approx(table.column("n_items").null_count / N)
    assert profile.rows == N


def test_quantiles_and_histogram_are_within_the_sketch_error(table: pa.Table, profile: TableProfile) -> None:
    values = np.sort(table.column("delivery_minutes").to_numpy())
    values = values[~np.isnan(values)]
    column = profile.column("delivery_minutes")
    assert column is not None
    epsilon = kll_rank_error(profile.params)
    for key, quantile in column.summary["quantiles"].items():
        true_rank = np.searchsorted(values, quantile) / len(values)
        assert abs(true_rank - int(key[1:]) / 100) <= 2 * epsilon, key
    histogram = column.summary["histogram"]
    exact, _ = np.histogram(values, bins=histogram["edges"])
    assert sum(histogram["counts"]) == len(values)
    assert np.abs(np.array(histogram["counts"]) - exact).max() <= 2 * epsilon * len(values)
    integers = profile.column("n_items")
    assert integers is not None and integers.summary["histogram"]["edges"] == [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]


def test_a_distinct_estimate_never_exceeds_the_values_there_are() -> None:
    """HLL overshoots some unique keys (60,289 for these 60,000 order ids): a reader would see more distinct ids than
    rows. The estimate and its bounds stop at the number of non-missing values; a merge keeps that bound."""
    ids = pa.table({"order_id": [f"o-{i:08d}" for i in range(1, 60_001)] + [None] * 10})
    distinct = profile_arrow(ids).column("order_id").summary["distinct"]  # type: ignore[union-attr]
    assert distinct["estimate"] == distinct["upper"] == 60_000 and 58_000 < distinct["lower"] < 60_000
    halves = merge_profiles([profile_arrow(ids.slice(0, 30_005)), profile_arrow(ids.slice(30_005))])
    assert halves.column("order_id").summary["distinct"] == distinct  # type: ignore[union-attr]


def test_categories_distinct_counts_and_times(table: pa.Table, profile: TableProfile) -> None:
    cities = profile.column("city_id")
    assert cities is not None and cities.kind == "categorical"
    expected = Counter(table.column("city_id").to_pylist())
    assert {item["value"]: item["count"] for item in cities.summary["top"]} == expected
    assert cities.summary["top_exact"] and cities.summary["distinct"]["estimate"] == 3
    ids = profile.column("order_id")
    assert ids is not None and abs(ids.summary["distinct"]["estimate"] - N) <= 0.05 * N
    express = profile.column("express")
    assert express is not None and {item["value"] for item in express.summary["top"]} == {"true", "false"}
    placed = profile.column("placed_at")
    assert placed is not None and placed.kind == "temporal"
    assert placed.summary["min"].startswith("2026-11-01T") and "+" not in placed.summary["min"]  # stays zone-less
    aware = profile_arrow(pa.table({"at": pa.array([0, 3_600_000_000], pa.timestamp("us", tz="UTC"))}))
    assert aware.columns[0].summary["max"] == "1970-01-01T01:00:00+00:00"


def test_json_round_trip_and_refusals(profile: TableProfile) -> None:
    text = json.dumps(profile.to_dict())
    again = TableProfile.from_dict(json.loads(text))
    assert again == profile
    assert "sketches" in text and profile.without_sketches().columns[0].sketches == {}
    with pytest.raises(ProfileFormatError, match=r"not a strata\.profile"):
        TableProfile.from_dict({"rows": 1})
    with pytest.raises(ProfileFormatError, match="version 99"):
        TableProfile.from_dict({**profile.to_dict(), "format_version": 99})


def test_merging_two_halves_gives_the_profile_of_the_whole(table: pa.Table, profile: TableProfile) -> None:
    halves = [profile_arrow(table.slice(0, 7_000)), profile_arrow(table.slice(7_000))]
    merged = merge_profiles(halves)
    for name in table.column_names:
        whole, both = profile.column(name), merged.column(name)
        assert whole is not None and both is not None
        assert (both.count, both.nulls, both.nan, both.minimum, both.maximum) == (
            whole.count, whole.nulls, whole.nan, whole.minimum, whole.maximum)  # fmt: skip
        assert both.summary["distinct"] == whole.summary["distinct"], name  # HLL unions are order-free
        assert both.summary.get("top") == whole.summary.get("top"), name
        if whole.moments is not None and both.moments is not None:
            assert both.moments.mean == pytest.approx(whole.moments.mean, rel=1e-12)


def test_a_column_missing_from_some_rows_counts_as_missing_there() -> None:
    old = profile_arrow(pa.table({"a": [1, 2, 3]}))
    new = profile_arrow(pa.table({"a": [4, 5], "b": ["x", None]}))
    merged = merge_profiles([old, new])
    b = merged.column("b")
    assert b is not None and (b.count, b.nulls) == (5, 4)
    shaped = conform(merged, [("a", "int64"), ("b", "string"), ("c", "double")])
    assert [c.name for c in shaped.columns] == ["a", "b", "c"]
    c = shaped.column("c")
    assert c is not None and c.kind == "numeric" and c.missing_rate == 1.0


def test_comparison_flags_a_shift_and_not_the_same_distribution(table: pa.Table, profile: TableProfile) -> None:
    same = compare_profiles(profile, profile_arrow(orders(seed=2)))
    assert not any(column.drifted for column in same.columns), [(c.name, c.drift) for c in same.columns]
    shifted = compare_profiles(profile, profile_arrow(orders(seed=3, shift=5.0, cities=("c-1", "c-2", "c-9"))))
    by_name = {column.name: column for column in shifted.columns}
    assert by_name["delivery_minutes"].drifted
    assert by_name["delivery_minutes"].drift == pytest.approx(1.0, abs=0.1)  # one standard deviation
    assert by_name["delivery_minutes"].distances["ks_rejects"] is True
    assert by_name["city_id"].drifted and by_name["city_id"].distances["new_categories"] == ["c-9"]
    assert not by_name["n_items"].drifted


def test_schema_changes_and_a_likely_rename(table: pa.Table, profile: TableProfile) -> None:
    changed = table.rename_columns(["order_id", "city", "delivery_minutes", "n_items", "placed_at", "express"])
    changed = changed.set_column(3, "n_items", changed.column("n_items").cast(pa.float64()))
    changed = changed.append_column("tip", pa.array(np.ones(N)))
    diff = compare_profiles(profile, profile_arrow(changed)).to_dict()
    assert diff["schema"]["removed"] == [{"name": "city_id", "type": "string"}]
    assert {c["name"] for c in diff["schema"]["added"]} == {"city", "tip"}
    assert diff["schema"]["retyped"] == [{"name": "n_items", "from": "int64", "to": "double"}]
    assert [(r["from"], r["to"]) for r in diff["schema"]["renamed"]] == [("city_id", "city")]
    assert diff["rows"] == {"from": N, "to": N, "change": 0, "ratio": 1.0}
