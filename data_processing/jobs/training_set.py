"""training-set <model>: point-in-time join of processed.orders with the model's feature set.

The feature set (``feature_sets/<model>.yaml``) names the features; the point-in-time join (rule in
``jobs/pit_join.py``) fetches the stored ones, ``etd_features`` computes the order context, and the DSL
computes the derived ones: the same functions the runtime service runs on one row. An order without a
usable feature row is KEPT with nulls (the model learns that case too). Small sets join on one machine
(numpy); large ones on Spark (``jobs/pit_spark.py``), chosen by ``pit_engine`` / ``pit_spark_min_rows``.
The feature set's JSON is stored next to the table and named in the commit's inputs, so the model trained
on it can carry it (see docs/contracts.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data_processing.domain.etd_features import order_context_features
from data_processing.domain.expressions import feature_set_to_json, model_inputs
from data_processing.domain.features import ORDER_GROUP, FeatureSet
from data_processing.jobs.lake_io import PARTITION_COLUMN, read_arrow, require_rows, table_ref
from data_processing.jobs.pit_join import GroupRows, point_in_time_join
from data_processing.registry import FeatureGroupRegistry
from strata_kernel.lake import LakeClient

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["GroupRows", "build_training_set", "point_in_time_join", "run_training_set", "training_columns"]

ORDERS = "processed.orders"
KEY_COLUMNS = ("order_id", "restaurant_id", "city_id", "country_code", "placed_at")
TIME_COLUMN = "placed_at"
#: processed.orders stores the ETD simulator's one wall-clock calendar without a zone, declared UTC
ORDERS_TIME_ZONE = "UTC"
FEATURE_SET_INPUT = "feature_set:"  # prefix of the commit input naming the feature set JSON


def run_training_set(
    lake: LakeClient,
    registry: FeatureGroupRegistry,
    feature_set: FeatureSet,
    *,
    spark: Callable[[], SparkSession] | None = None,
    spark_min_rows: int | None = None,
) -> dict[str, Any]:
    """Join and commit ``processed.<model>_training_set``; Spark when ``spark`` is given and the set is large.

    ``spark`` builds the session lazily; ``spark_min_rows`` (None = always Spark when given) is the size from
    which Spark is worth its start-up.
    """
    orders_info = lake.table(ORDERS)
    require_rows(orders_info, "run `python -m data_processing process-orders` first")
    groups = [registry.get(name) for name in feature_set.stored_groups()]
    infos = [lake.table(group.table) for group in groups]
    for info in infos:
        require_rows(info, "run `python -m data_processing build-features <group>` first")
    target = f"processed.{feature_set.model}_training_set"
    spec_input = _store_feature_set(lake, target, feature_set)
    job = f"data_processing training-set {feature_set.model}"
    inputs = [table_ref(orders_info), *(table_ref(info) for info in infos), spec_input]
    use_spark = spark is not None and (spark_min_rows is None or orders_info.rows >= spark_min_rows)
    if use_spark and spark is not None:
        from data_processing.jobs.pit_spark import spark_training_set

        commit = spark_training_set(spark(), lake, orders_info, list(zip(groups, infos, strict=True)), feature_set,
                                    target=target, job=job, inputs=inputs)  # fmt: skip
    else:
        orders = read_arrow(orders_info)
        group_rows = [GroupRows(group, read_arrow(info)) for group, info in zip(groups, infos, strict=True)]
        table = build_training_set(orders, group_rows, feature_set)
        commit = lake.write_arrow(
            target, table, partition_column=PARTITION_COLUMN, job=job, inputs=inputs, mode="overwrite"
        )
    return {"table": target, "version": commit["version"], "rows": commit["rows"], "engine": "spark" if use_spark
            else "local", "feature_set": spec_input.removeprefix(FEATURE_SET_INPUT)}  # fmt: skip


def build_training_set(orders: pa.Table, groups: Sequence[GroupRows], feature_set: FeatureSet) -> pa.Table:
    """Keys, ``nominal_date``, the feature set's columns (in its order) and ``label``; one row per order."""
    joined = point_in_time_join(orders, TIME_COLUMN, groups, feature_set.stored_groups(), time_zone=ORDERS_TIME_ZONE)
    return pa.table(training_columns(joined, feature_set))


def training_columns(joined: pa.Table | pa.RecordBatch, feature_set: FeatureSet) -> dict[str, pa.Array]:
    """From orders + fetched feature columns to the training set's columns (both engines run this)."""
    placed_at = pc.cast(joined.column(TIME_COLUMN), pa.timestamp("us")).to_numpy(zero_copy_only=False)
    order_context = order_context_features(
        placed_at,
        joined.column("n_items").to_numpy(zero_copy_only=False),
        joined.column("subtotal").to_numpy(zero_copy_only=False),
    )
    fetched: dict[str, Any] = {}
    for ref in feature_set.required_refs:
        fetched[ref.column] = order_context[ref.column] if ref.group == ORDER_GROUP else joined.column(ref.column)
    as_numpy = {column: _numpy(values) for column, values in fetched.items()}
    columns: dict[str, Any] = {key: joined.column(key) for key in KEY_COLUMNS}
    columns[PARTITION_COLUMN] = pa.array(placed_at.astype("datetime64[D]").astype(str))
    for column, values in model_inputs(feature_set, as_numpy).items():
        stored = fetched.get(column)
        columns[column] = stored if isinstance(stored, pa.Array | pa.ChunkedArray) else _arrow(values)
    columns["label"] = pc.cast(joined.column(feature_set.label), pa.float64())
    return columns


def feature_set_blob(feature_set: FeatureSet) -> tuple[str, bytes]:
    """The spec's JSON and its content address (first 16 hex digits of its SHA-256)."""
    blob = json.dumps(feature_set_to_json(feature_set), sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16], blob


def _store_feature_set(lake: LakeClient, table: str, feature_set: FeatureSet) -> str:
    """Write ``_feature_sets/<sha>.json`` (immutable) and ``_feature_set.json`` (newest) next to the table."""
    digest, blob = feature_set_blob(feature_set)
    directory = lake.table_dir(table) / "_feature_sets"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{digest}.json"
    if not path.exists():
        path.write_bytes(blob)
    (lake.table_dir(table) / "_feature_set.json").write_bytes(blob)
    return f"{FEATURE_SET_INPUT}{path.relative_to(lake.root)}"


def _numpy(values: Any) -> np.ndarray:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        if pa.types.is_integer(values.type) or pa.types.is_floating(values.type) or pa.types.is_boolean(values.type):
            return np.asarray(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        return np.asarray(values.to_pylist(), dtype=object)
    return np.asarray(values)


def _arrow(values: np.ndarray) -> pa.Array:
    return pa.array(values, from_pandas=True)  # NaN -> null, as the stored features
