"""Point-in-time join on Spark, for training sets too large for one machine. Same rule as ``pit_join``.

Per group: the spine rows and the group rows are unioned into one frame keyed by entity and ordered by
time (availability time for group rows; a group row sorts before a spine row at the same instant, so
``<=`` is inclusive). A running ``max`` over ``struct(event_time, created_at, features...)`` — structs
compare field by field — carries the newest available row to every spine row, with no range join and no
self-join; spine columns ride along in a struct, so nothing is joined back. The training set's remaining
columns (order context, DSL-derived features, label) come from ``training_columns`` in ``mapInArrow``:
the very numpy code of the single-machine path and of serving.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from data_processing.domain.feature_groups import FeatureGroup
from data_processing.domain.features import FeatureSet
from data_processing.jobs.lake_io import PARTITION_COLUMN, read_table
from data_processing.jobs.pit_join import CREATED_AT
from data_processing.models import DeclaredModel
from strata_kernel.contracts.model_spec import ModelSpec
from strata_kernel.contracts.time_zones import InvalidTimeColumn, NaiveTimeColumn, check_zone
from strata_kernel.lake import LakeClient, TableInfo, new_run_id
from strata_kernel.time_columns import normalise_units

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

_SPINE, _BEST, _KEY, _TIME, _KIND = "_pit_spine", "_pit_best", "_pit_key", "_pit_time", "_pit_kind"


@dataclass(frozen=True)
class SparkGroupRows:
    group: FeatureGroup
    rows: DataFrame
    honours_created_at: bool | None = None  # None: decided by the group's kind, as in pit_join

    @property
    def uses_created_at(self) -> bool:
        if self.honours_created_at is not None:
            return self.honours_created_at
        return self.group.kind != "batch" and CREATED_AT in self.rows.columns


def spark_point_in_time_join(
    spine: DataFrame,
    time_column: str,
    groups: Sequence[SparkGroupRows],
    features: dict[str, tuple[str, ...]],
    *,
    time_zone: str | None = None,
) -> DataFrame:
    """``spine`` plus one ``<group>__<feature>`` column per requested feature (row order not kept).

    ``time_zone``: the zone of the spine's time column if it is stored without one (else refused), as in
    ``pit_join``. Inside, every time is a UTC wall clock (``timestamp_ntz``; the session's zone is UTC).
    """
    result = spine
    for item in groups:
        result = _join_group(result, time_column, time_zone, item, features[item.group.name])
    return result


def utc_instant(frame: DataFrame, column: str, zone: str | None, what: str) -> Column:
    """``column`` as a UTC wall clock: instants (``timestamp``) as they are, naive ones read in their declared zone.

    (Spark shifts a wall-clock time that falls in a DST gap instead of refusing it, as the numpy path does.)
    """
    from pyspark.sql import functions as F  # noqa: N812

    kind = dict(frame.dtypes)[column]
    if kind == "timestamp":
        return F.col(column).cast("timestamp_ntz")
    if kind != "timestamp_ntz":
        raise InvalidTimeColumn(f"{what} is {kind}, not a timestamp column", field=what)
    if zone is None:
        raise NaiveTimeColumn(f"{what} holds timestamps without a time zone: declare the zone its wall-clock "
                              "times are in (time_zone: ...)", field=what)  # fmt: skip
    if check_zone(zone) == "UTC":
        return F.col(column)
    return F.to_utc_timestamp(F.col(column).cast("timestamp_ltz"), zone).cast("timestamp_ntz")


def _join_group(
    spine: DataFrame, time_column: str, spine_zone: str | None, item: SparkGroupRows, names: tuple[str, ...]
) -> DataFrame:
    from pyspark.sql import Window
    from pyspark.sql import functions as F  # noqa: N812

    group = item.group
    event = utc_instant(item.rows, group.nominal_time, group.time_zone, f"{group.table}.{group.nominal_time}")
    created = event
    if CREATED_AT in item.rows.columns:
        created = F.coalesce(utc_instant(item.rows, CREATED_AT, group.time_zone, f"{group.table}.{CREATED_AT}"), event)
    available = F.greatest(event, created) if item.uses_created_at else event
    rows = item.rows.where(event.isNotNull() & F.col(group.entity).isNotNull()).select(
        F.col(group.entity).cast("string").alias(_KEY),
        available.alias(_TIME),
        F.lit(0).alias(_KIND),
        F.struct(event.alias("event"), created.alias("created"), *(F.col(n) for n in names)).alias(_BEST),
        F.lit(None).cast(spine.select(F.struct(*spine.columns)).schema[0].dataType).alias(_SPINE),
    )
    orders = spine.select(
        F.col(group.entity).cast("string").alias(_KEY),
        utc_instant(spine, time_column, spine_zone, f"spine.{time_column}").alias(_TIME),
        F.lit(1).alias(_KIND),
        F.lit(None).cast(rows.schema[_BEST].dataType).alias(_BEST),
        F.struct(*spine.columns).alias(_SPINE),
    )
    so_far = Window.partitionBy(_KEY).orderBy(_TIME, _KIND).rowsBetween(Window.unboundedPreceding, 0)
    carried = rows.unionByName(orders).withColumn(_BEST, F.max(_BEST).over(so_far)).where(F.col(_KIND) == 1)
    ttl_seconds = int(group.ttl.total_seconds())
    age = F.col(_TIME) - F.col(f"{_BEST}.event")  # spine rows carry their own UTC time in _TIME
    fresh = F.col(f"{_BEST}.event").isNotNull() & (age <= F.make_dt_interval(secs=F.lit(ttl_seconds)))
    values = [F.when(fresh, F.col(f"{_BEST}.{n}")).alias(f"{group.name}__{n}") for n in names]
    return carried.select(f"{_SPINE}.*", *values)


def spark_training_set(
    spark: SparkSession,
    lake: LakeClient,
    model: DeclaredModel,
    spine_infos: list[TableInfo],
    groups: list[tuple[FeatureGroup, TableInfo]],
    *,
    target: str,
    job: str,
    inputs: list[str],
) -> dict[str, Any]:
    """Join on Spark, finish the columns with the shared numpy code, write + commit (overwrite)."""
    spec = model.spec
    plain_table = spec.spine.table is not None and spec.spine.burn_in_days == 0  # a burn-in filters like a query
    staged_spine = None if plain_table else lake.staging_dir(target, f"spine-{new_run_id()}")
    try:
        spine = _spine_frame(spark, spec, spine_infos, staged_spine)
        items = [SparkGroupRows(group, read_table(spark, info)) for group, info in groups]
        features = model.feature_set.stored_groups()
        joined = spark_point_in_time_join(spine, spec.spine.time, items, features, time_zone=spec.spine.time_zone)
        finished = finish_on_spark(joined, spec, model.feature_set)
        staging = lake.staging_dir(target, new_run_id())
        finished.write.mode("overwrite").partitionBy(PARTITION_COLUMN).parquet(str(staging))
    finally:
        if staged_spine is not None:
            shutil.rmtree(staged_spine, ignore_errors=True)
    return lake.commit_staged(target, staging, partition_column=PARTITION_COLUMN, job=job, inputs=inputs,
                              mode="overwrite")  # fmt: skip


def _spine_frame(spark: SparkSession, spec: ModelSpec, infos: list[TableInfo], staging: Path | None) -> DataFrame:
    """A table spine is read as is; a query or a burn-in runs once on DuckDB (read-only), staged for the executors."""
    if staging is None:
        return read_table(spark, infos[0]).drop(infos[0].partition_column)
    import pyarrow.parquet as pq

    from data_processing.jobs.spine import read_spine

    pq.write_table(normalise_units(read_spine(spec.spine, infos)), staging / "spine.parquet")
    return spark.read.parquet(str(staging / "spine.parquet"))


def finish_on_spark(joined: DataFrame, spec: ModelSpec, feature_set: FeatureSet) -> DataFrame:
    """``training_columns`` per Arrow batch (``mapInArrow``): one code path for every engine."""
    import pyarrow as pa

    from data_processing.jobs.training_set import training_columns

    sample = pa.Table.from_pylist([], schema=_arrow_schema(joined))
    schema = _utc(pa.table(training_columns(sample, spec, feature_set)).schema)

    def finish(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            columns = training_columns(batch, spec, feature_set)
            arrays = [_as_array(columns[field.name], field.type) for field in schema]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    return joined.mapInArrow(finish, _spark_schema(schema))


def _utc(schema: Any) -> Any:
    """Instants travel to Spark in UTC (its session zone); naive columns stay naive."""
    import pyarrow as pa

    fields = [f.with_type(pa.timestamp("us", tz="UTC")) if pa.types.is_timestamp(f.type) and f.type.tz else f
              for f in schema]  # fmt: skip
    return pa.schema(fields)


def _as_array(values: Any, kind: Any) -> Any:
    import pyarrow as pa

    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else pa.array(values)
    return array.cast(kind)


def _arrow_schema(frame: DataFrame) -> Any:
    import pyarrow as pa

    arrow = {"string": pa.string(), "bigint": pa.int64(), "int": pa.int32(), "double": pa.float64(),
             "float": pa.float32(), "boolean": pa.bool_(), "timestamp_ntz": pa.timestamp("us"),
             "timestamp": pa.timestamp("us", tz="UTC"), "date": pa.date32()}  # fmt: skip
    return pa.schema([(name, arrow[kind]) for name, kind in frame.dtypes])


def _spark_schema(schema: Any) -> str:
    import pyarrow as pa

    def spark_type(kind: Any) -> str:
        if pa.types.is_timestamp(kind):
            return "timestamp_ltz" if kind.tz else "timestamp_ntz"  # "timestamp" may mean NTZ (session setting)
        names = {pa.string(): "string", pa.int64(): "bigint", pa.int32(): "int", pa.float64(): "double",
                 pa.float32(): "float", pa.bool_(): "boolean"}  # fmt: skip
        return names[kind]

    return ", ".join(f"`{field.name}` {spark_type(field.type)}" for field in schema)
