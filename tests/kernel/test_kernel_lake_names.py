"""strata_kernel.lake path rules: a table name maps to exactly one directory under the lake root."""

from __future__ import annotations

from pathlib import Path

import pytest

from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient, split_table_name


@pytest.mark.parametrize(
    ("table", "expected"),
    [("raw.order_placed", ("raw", "order_placed")), ("features.restaurant_stats", ("features", "restaurant_stats"))],
)
def test_valid_names_split_into_zone_and_table(table: str, expected: tuple[str, str]) -> None:
    assert split_table_name(table) == expected


@pytest.mark.parametrize(
    "table",
    ["orders", "gold.orders", "raw.", "raw.../etc", "raw.a/b", "processed.orders.v2", "raw.order-placed", ".orders"],
)
def test_bad_names_are_rejected_with_the_rule(table: str) -> None:
    with pytest.raises(ValueError, match=r"must be '<zone>.<name>' with zone in \('raw', 'processed', 'features'\)"):
        split_table_name(table)


def test_table_dir_stays_under_the_lake_root(tmp_path: Path) -> None:
    lake = LakeClient(tmp_path, ServiceClient("data_lake", "http://127.0.0.1:1"))
    assert lake.table_dir("processed.orders") == tmp_path.resolve() / "processed" / "orders"
    with pytest.raises(ValueError):
        lake.table_dir("processed.../../etc")
