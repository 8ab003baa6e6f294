"""build-features <group>: run a feature group's code on its source table, write the offline store
(features.<group>, partitioned by the date of the nominal time) and bulk-load the newest row per
entity into the online store as a new version.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from data_processing.directory.jobs import check_computed_types, newest_nominal_time
from data_processing.domain.feature_groups import FeatureGroup
from data_processing.domain.online import OnlineRow
from data_processing.errors import InvalidFeatureGroup
from data_processing.jobs.lake_io import PARTITION_COLUMN, read_table, require_rows, table_ref, write_table
from data_processing.ports import OnlineStore
from data_processing.registry import FeatureGroupRegistry
from strata_kernel.lake import LakeClient

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_SPARK_TYPES = {"int64": "long", "float64": "double", "bool": "boolean", "string": "string"}


def run_build_features(
    spark: SparkSession,
    lake: LakeClient,
    registry: FeatureGroupRegistry,
    online_store: OnlineStore,
    group_name: str,
    *,
    as_of: datetime | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    from pyspark.sql import functions as F  # noqa: N812

    group = registry.get(group_name)
    compute = registry.transform(group_name)
    source_info = lake.table(group.source)
    require_rows(source_info, f"build {group.source} first")
    computed = compute(read_table(spark, source_info), as_of=as_of)
    check_computed_types(computed, group)  # the declared types vs what the code really produced
    features = conform(computed, group, created_at=now or datetime.now())
    if as_of is not None:  # Python groups stop at as_of themselves; a SQL group cannot be told
        features = features.where(F.col(group.nominal_time) <= F.lit(as_of.replace(tzinfo=None).isoformat(sep=" "))
                                  .cast("timestamp_ntz"))  # fmt: skip
    features = features.cache()
    try:
        commit = write_table(
            lake,
            features,
            group.table,
            job=f"data_processing build-features {group.name}",
            inputs=[table_ref(source_info)],
        )
        online_version = online_store.load_version(group.name, newest_rows(features, group)) if group.online else None
        newest = newest_nominal_time(features, group)
    finally:
        features.unpersist()
    return {
        "group": group.name,
        "table": group.table,
        "version": commit["version"],
        "rows": commit["rows"],
        "online_version": online_version,
        "newest_nominal_time": newest,
    }


def conform(frame: DataFrame, group: FeatureGroup, *, created_at: datetime) -> DataFrame:
    """Exactly the offline-store columns, typed as the YAML declares; missing code output is a clear error.

    The nominal time is written on the wall clock of the group's ``time_zone`` (what every reader assumes): an
    instant (Spark ``timestamp``, e.g. from a file landed with its zone) is converted to that clock, a naive
    value is already on it.
    """
    from pyspark.sql import functions as F  # noqa: N812

    expected = [group.entity, group.nominal_time, *group.feature_names]
    missing = [name for name in expected if name not in frame.columns]
    if missing:
        raise InvalidFeatureGroup(f"{group.code} returned no column(s) {', '.join(missing)}", field="code")
    typed_features = [F.col(f.name).cast(_SPARK_TYPES[f.type]).alias(f.name) for f in group.features]
    nominal = F.col(group.nominal_time)
    if dict(frame.dtypes)[group.nominal_time] == "timestamp":  # an instant: onto the group's clock
        nominal = F.from_utc_timestamp(nominal, group.time_zone or "UTC")
    return frame.select(
        F.col(group.entity).cast("string").alias(group.entity),
        nominal.cast("timestamp_ntz").alias(group.nominal_time),
        F.lit(created_at.replace(tzinfo=None).isoformat(sep=" ")).cast("timestamp_ntz").alias("created_at"),
        *typed_features,
        F.date_format(group.nominal_time, "yyyy-MM-dd").alias(PARTITION_COLUMN),
    )


def newest_rows(features: DataFrame, group: FeatureGroup) -> Iterator[OnlineRow]:
    """The newest row per entity, streamed to the driver partition by partition (no full collect)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F  # noqa: N812

    newest_first = Window.partitionBy(group.entity).orderBy(F.col(group.nominal_time).desc())
    newest = features.withColumn("_rank", F.row_number().over(newest_first)).where(F.col("_rank") == 1)
    for row in newest.select(group.entity, group.nominal_time, *group.feature_names).toLocalIterator():
        values = {name: row[name] for name in group.feature_names}
        yield OnlineRow(entity_id=row[group.entity], feature_time=row[group.nominal_time], values=values)
