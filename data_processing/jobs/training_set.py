"""training-set <model>: a declared model's spine, point-in-time joined with its features.

From ``model_specs/<model>.yaml`` alone: the spine (a lake table or a query) is read and checked, its nominal time
made instants, each feature group joined by the rule of ``jobs/pit_join.py`` (an order without a usable feature
row is KEPT with nulls: the model learns that case too), the request context computed by ``domain/context.py``
and the derived features by the DSL — the same functions the online path runs on one row. Text features stay
text (categorical). Small sets join on one machine; large ones on Spark (``jobs/pit_spark.py``), chosen by
``pit_engine`` / ``pit_spark_min_rows``. The feature set's JSON is stored next to the table and named in the
commit's inputs, so the model trained on it can carry it (see docs/contracts.md).

Columns of ``processed.<model>_training_set``: the spine's id, entities, partition and baseline columns and
nominal time (instants), ``nominal_date`` (the local date), the model's input columns in order, ``label``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data_processing.domain.context import context_features
from data_processing.domain.expressions import feature_set_to_json, model_inputs
from data_processing.domain.features import FeatureSet
from data_processing.jobs.lake_io import PARTITION_COLUMN, read_arrow, require_rows, table_ref
from data_processing.jobs.pit_join import GroupRows, point_in_time_join
from data_processing.jobs.spine import prepare_spine, read_spine
from data_processing.models import DeclaredModel
from strata_kernel.contracts.model_spec import LABEL_COLUMN, ModelSpec
from strata_kernel.lake import LakeClient
from strata_kernel.time_columns import as_instants

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["GroupRows", "build_training_set", "point_in_time_join", "run_training_set", "training_columns"]

FEATURE_SET_INPUT = "feature_set:"  # prefix of the commit input naming the feature set JSON


def run_training_set(
    lake: LakeClient,
    model: DeclaredModel,
    *,
    spark: Callable[[], SparkSession] | None = None,
    spark_min_rows: int | None = None,
) -> dict[str, Any]:
    """Join and commit ``processed.<model>_training_set``; Spark when ``spark`` is given and the set is large.

    ``spark`` builds the session lazily; ``spark_min_rows`` (None = always Spark when given) is the size from
    which Spark is worth its start-up (the spine tables' rows count).
    """
    spec = model.spec
    spine_infos = [lake.table(name) for name in spec.spine.tables]
    for info in spine_infos:
        require_rows(info, f"land or build {info.name} first")
    infos = [lake.table(group.table) for group in model.groups]
    for info in infos:
        require_rows(info, "run `python -m data_processing build-features <group>` first")
    target = spec.training_table
    spec_input = _store_feature_set(lake, target, model.feature_set)
    job = f"data_processing training-set {spec.name}"
    inputs = [*(table_ref(info) for info in [*spine_infos, *infos]), spec_input]
    rows = sum(info.rows for info in spine_infos)
    use_spark = spark is not None and (spark_min_rows is None or rows >= spark_min_rows)
    if use_spark and spark is not None:
        from data_processing.jobs.pit_spark import spark_training_set

        commit = spark_training_set(spark(), lake, model, spine_infos, list(zip(model.groups, infos, strict=True)),
                                    target=target, job=job, inputs=inputs)  # fmt: skip
    else:
        spine = read_spine(spec.spine, spine_infos)
        group_rows = [GroupRows(group, read_arrow(info)) for group, info in zip(model.groups, infos, strict=True)]
        table = build_training_set(spine, group_rows, model)
        commit = lake.write_arrow(target, table, partition_column=PARTITION_COLUMN, job=job, inputs=inputs,
                                  mode="overwrite")  # fmt: skip
    return {"table": target, "version": commit["version"], "rows": commit["rows"], "engine": "spark" if use_spark
            else "local", "feature_set": spec_input.removeprefix(FEATURE_SET_INPUT)}  # fmt: skip


def build_training_set(spine: pa.Table, groups: Sequence[GroupRows], model: DeclaredModel) -> pa.Table:
    """Keys, ``nominal_date``, the feature set's columns (in its order) and ``label``; one row per spine row."""
    prepared = prepare_spine(spine, model.spec)
    joined = point_in_time_join(prepared, model.spec.spine.time, groups, model.feature_set.stored_groups())
    return pa.table(training_columns(joined, model.spec, model.feature_set))


def training_columns(joined: pa.Table | pa.RecordBatch, spec: ModelSpec, feature_set: FeatureSet) -> dict[str, Any]:
    """From spine + fetched feature columns to the training set's columns (both engines run this)."""
    zone = spec.spine.time_zone or "UTC"
    times = as_instants(joined.column(spec.spine.time), zone=zone, what=f"spine.{spec.spine.time}")
    local = pc.local_timestamp(pc.cast(times, pa.timestamp("us", tz=zone)))  # the wall clock of the spine's zone
    local_times = np.asarray(local.to_numpy(zero_copy_only=False), dtype="datetime64[us]")
    values = {f.name: joined.column(f.name).to_numpy(zero_copy_only=False) for f in spec.context}
    context = context_features(feature_set.context, spec.context, local_times, values)
    fetched: dict[str, Any] = {}
    for ref in feature_set.required_refs:
        fetched[ref.column] = context[ref.column] if ref.group == feature_set.context else joined.column(ref.column)
    as_numpy = {column: _numpy(value) for column, value in fetched.items()}
    columns: dict[str, Any] = {key: joined.column(key) for key in key_columns(spec) if key != spec.spine.time}
    columns[spec.spine.time] = times
    columns[PARTITION_COLUMN] = pa.array(local_times.astype("datetime64[D]").astype(str))
    for column, computed in model_inputs(feature_set, as_numpy).items():
        stored = fetched.get(column)
        columns[column] = stored if isinstance(stored, pa.Array | pa.ChunkedArray) else _arrow(computed)
    columns[LABEL_COLUMN] = pc.cast(joined.column(spec.label), pa.float64())
    return columns


def key_columns(spec: ModelSpec) -> tuple[str, ...]:
    """What identifies, routes and baselines a row: id, entities, partition columns, baseline column, time."""
    keys = [spec.spine.id, *spec.entities, *spec.partition_by, spec.baseline_mean_by, spec.spine.time]
    return tuple(dict.fromkeys(key for key in keys if key is not None))


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
        return np.asarray(values.to_pylist(), dtype=object)  # text: categorical, kept as text
    return np.asarray(values)


def _arrow(values: np.ndarray) -> pa.Array:
    if values.dtype == object:
        return pa.array(values.tolist(), pa.string())
    return pa.array(values, from_pandas=True)  # NaN -> null, as the stored features
