"""training-set <model>: point-in-time join of processed.orders with the model's feature groups (DuckDB).

For each order (entity keys, nominal time ``placed_at``) and each feature group, the newest group
row with ``nominal_time <= placed_at`` and ``placed_at - nominal_time <= ttl``. Batch groups use their
nominal time (``feature_time``) as the time a row became available: ``created_at`` is the job's run
time, which for a backfill lies after every order and would hide every row. Rows are never taken
from the future; an order without a usable row is KEPT with nulls (the model learns that case too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from data_processing.domain.etd_features import order_context_features
from data_processing.domain.feature_groups import FeatureGroup
from data_processing.domain.features import ORDER_GROUP, FeatureSet
from data_processing.jobs.lake_io import PARTITION_COLUMN, require_rows, table_ref
from data_processing.registry import FeatureGroupRegistry
from strata_kernel.lake import LakeClient, TableInfo

ORDERS = "processed.orders"
KEY_COLUMNS = ("order_id", "restaurant_id", "city_id", "country_code", "placed_at")
LABEL_SOURCE = "delivery_minutes"
_ROW = "_spine_row"


@dataclass(frozen=True)
class GroupRows:
    """A feature group's offline rows (entity, nominal time, created_at, features) for one join."""

    group: FeatureGroup
    rows: pa.Table


def run_training_set(lake: LakeClient, registry: FeatureGroupRegistry, feature_set: FeatureSet) -> dict[str, Any]:
    import duckdb

    orders_info = lake.table(ORDERS)
    require_rows(orders_info, "run `python -m data_processing process-orders` first")
    groups = [registry.get(name) for name in feature_set.stored_groups()]
    infos = [lake.table(group.table) for group in groups]
    for info in infos:
        require_rows(info, "run `python -m data_processing build-features <group>` first")
    with duckdb.connect() as con:
        orders = _read(con, orders_info)
        group_rows = [GroupRows(group, _read(con, info)) for group, info in zip(groups, infos, strict=True)]
    table = build_training_set(orders, group_rows, feature_set)
    target = f"processed.{feature_set.model}_training_set"
    commit = lake.write_arrow(
        target,
        table,
        partition_column=PARTITION_COLUMN,
        job=f"data_processing training-set {feature_set.model}",
        inputs=[table_ref(orders_info), *(table_ref(info) for info in infos)],
        mode="overwrite",
    )
    return {"table": target, "version": commit["version"], "rows": commit["rows"]}


def build_training_set(orders: pa.Table, groups: Sequence[GroupRows], feature_set: FeatureSet) -> pa.Table:
    """Keys, ``nominal_date``, the feature set's columns (in its order) and ``label``; one row per order."""
    joined = point_in_time_join(orders, "placed_at", groups, feature_set.stored_groups())
    placed_at = joined.column("placed_at").to_numpy(zero_copy_only=False).astype("datetime64[us]")
    computed: dict[str, Any] = order_context_features(
        placed_at,
        joined.column("n_items").to_numpy(zero_copy_only=False),
        joined.column("subtotal").to_numpy(zero_copy_only=False),
    )
    columns: dict[str, Any] = {key: joined.column(key) for key in KEY_COLUMNS}
    columns[PARTITION_COLUMN] = pa.array(placed_at.astype("datetime64[D]").astype(str))
    for ref in feature_set.refs:
        columns[ref.column] = computed[ref.column] if ref.group == ORDER_GROUP else joined.column(ref.column)
    columns["label"] = joined.column(LABEL_SOURCE).cast(pa.float64())
    return pa.table(columns)


def point_in_time_join(
    spine: pa.Table, time_column: str, groups: Sequence[GroupRows], features: dict[str, tuple[str, ...]]
) -> pa.Table:
    """``spine`` plus one ``<group>__<feature>`` column per requested feature, in the spine's row order."""
    import duckdb

    with duckdb.connect() as con:
        con.register("spine", spine.append_column(_ROW, pa.array(np.arange(spine.num_rows))))
        selects, joins = ["s.*"], []
        for index, item in enumerate(groups):
            alias = f"g{index}"
            _register_deduplicated(con, alias, item)
            entity, nominal = item.group.entity, item.group.nominal_time
            joins.append(f'ASOF LEFT JOIN {alias} ON s."{entity}" = {alias}."{entity}" '
                         f'AND s."{time_column}" >= {alias}."{nominal}"')  # fmt: skip
            fresh = f'{alias}."{nominal}" >= s."{time_column}" - to_seconds({item.group.ttl.total_seconds()})'
            selects += [f'CASE WHEN {fresh} THEN {alias}."{name}" END AS "{item.group.name}__{name}"'
                        for name in features[item.group.name]]  # fmt: skip
        sql = f"SELECT {', '.join(selects)} FROM spine s {' '.join(joins)} ORDER BY s.{_ROW}"
        return con.sql(sql).to_arrow_table().drop_columns([_ROW])


def _register_deduplicated(con: Any, alias: str, item: GroupRows) -> None:
    """A rerun may leave two rows for one (entity, nominal time): the newest created_at wins."""
    con.register(f"{alias}_raw", item.rows)
    entity, nominal = item.group.entity, item.group.nominal_time
    con.execute(
        f"CREATE TEMP VIEW {alias} AS SELECT * FROM {alias}_raw QUALIFY row_number() OVER "
        f'(PARTITION BY "{entity}", "{nominal}" ORDER BY created_at DESC) = 1'
    )


def _read(con: Any, info: TableInfo) -> pa.Table:
    """Committed files only (``<partition>=*/``): staging directories are skipped."""
    pattern = str(info.location / f"{info.partition_column}=*" / "*.parquet")
    query = "SELECT * FROM read_parquet(?, hive_partitioning = false)"
    table: pa.Table = con.sql(query, params=[pattern]).to_arrow_table()
    return table
