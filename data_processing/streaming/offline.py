"""Outbox rows -> the group's offline table in the lake (append, partitioned by nominal_date).

A flush is staged under a run named after the outbox sequence numbers it holds (``s<first>-<last>``): the catalog
records a run once, so retrying a flush whose commit was recorded (its answer lost) writes no row twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from data_processing.domain.feature_groups import FeatureGroup
from data_processing.streaming.state_sqlite import FeatureRow
from strata_kernel.errors import NotFound
from strata_kernel.lake import LakeClient

PARTITION_COLUMN = "nominal_date"
_ARROW_TYPES = {"int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_(), "string": pa.string()}


def offline_schema(group: FeatureGroup) -> pa.Schema:
    """``<entity>, event_time, created_at, event_id, <features...>, nominal_date``."""
    return pa.schema(
        [
            pa.field(group.entity, pa.string()),
            pa.field("event_time", pa.timestamp("us")),
            pa.field("created_at", pa.timestamp("us")),
            pa.field("event_id", pa.string()),
            *(pa.field(f.name, _ARROW_TYPES[f.type]) for f in group.features),
            pa.field(PARTITION_COLUMN, pa.string()),
        ]
    )


def rows_to_arrow(group: FeatureGroup, rows: Sequence[FeatureRow]) -> pa.Table:
    columns: dict[str, list[object]] = {
        group.entity: [r.entity_id for r in rows],
        "event_time": [r.event_time for r in rows],
        "created_at": [r.created_at for r in rows],
        "event_id": [r.event_id for r in rows],
    }
    for feature in group.features:
        columns[feature.name] = [r.values.get(feature.name) for r in rows]
    columns[PARTITION_COLUMN] = [r.event_time.date().isoformat() for r in rows]
    return pa.table(columns, schema=offline_schema(group))


class LakeSink:
    """Appends feature rows to ``group.table`` through the kernel's LakeClient (files + catalog commit)."""

    def __init__(self, lake: LakeClient, group: FeatureGroup) -> None:
        self._lake = lake
        self._group = group

    def append(self, rows: Sequence[FeatureRow]) -> None:
        if not rows:
            return
        run_id = f"s{rows[0].seq}-{rows[-1].seq}"
        job = f"data_processing stream {self._group.name}"
        inputs = list(self._group.topics)
        self._check_catalog()
        staging = self._lake.staging_dir(self._group.table, run_id)
        for stale in staging.rglob("*.parquet"):  # a previous attempt died while writing
            stale.unlink()
        table = rows_to_arrow(self._group, rows)
        template = f"part-{run_id}-{{i}}.parquet"
        pq.write_to_dataset(table, str(staging), partition_cols=[PARTITION_COLUMN], basename_template=template)
        self._lake.commit_staged(self._group.table, staging, partition_column=PARTITION_COLUMN, job=job, inputs=inputs,
                                 continuous=True)  # fmt: skip

    def _check_catalog(self) -> None:
        """Fail before writing files when the catalog is down (the flush is retried later)."""
        with contextlib.suppress(NotFound):  # the first flush creates the table
            self._lake.table(self._group.table)
