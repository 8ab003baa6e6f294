"""``python -m data_processing join``: a one-off point-in-time join of a spine file against feature groups.

The data scientist's everyday question — "what did the feature store know about these rows, at their time?" —
answered with the training sets' own join (``pit_join``: TTL, created-at rule, rows without features kept)
over the groups' offline tables in the lake, written to a Parquet or CSV file. The spine's time column needs a
zone when its values carry none; each group's entity must be a column of the spine.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from data_processing.domain.features import FeatureRef
from data_processing.errors import InvalidJoin
from data_processing.jobs.lake_io import read_arrow, require_rows, table_ref
from data_processing.jobs.pit_join import GroupRows, point_in_time_join
from data_processing.registry import FeatureGroupRegistry
from strata_kernel.lake import LakeClient
from strata_kernel.time_columns import parse_instants

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def requested_features(registry: FeatureGroupRegistry, expressions: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """``@group:feature`` or ``@group`` (all its features) -> {group: features}; unknown names are refused."""
    wanted: dict[str, list[str]] = {}
    for expression in expressions:
        if ":" not in expression:
            group = registry.get(expression.removeprefix("@"))
            wanted.setdefault(group.name, []).extend(group.feature_names)
            continue
        try:
            ref = FeatureRef.parse(expression)
        except ValueError as exc:
            raise InvalidJoin(str(exc), field="feature") from None
        group = registry.get(ref.group)
        if ref.feature not in group.feature_names:
            raise InvalidJoin(f"{expression}: group {group.name!r} has no feature {ref.feature!r} "
                              f"(features: {', '.join(group.feature_names)})", field="feature")  # fmt: skip
        wanted.setdefault(group.name, []).append(ref.feature)
    if not wanted:
        raise InvalidJoin("name at least one feature (--feature @group:feature, or @group for all of it)")
    return {group: tuple(dict.fromkeys(names)) for group, names in wanted.items()}


def read_spine(path: Path, time_column: str, zone: str | None) -> pa.Table:
    """The spine file with its time column as instants (ISO-8601 text parsed; a naive column needs ``zone``)."""
    kind = FORMATS.get(path.suffix.lower())
    if not path.is_file() or kind is None:
        raise InvalidJoin(f"{path}: expected an existing .csv or .parquet file", field="spine")
    if kind == "csv":
        options = pacsv.ConvertOptions(column_types={time_column: pa.string()})
        spine = pacsv.read_csv(path, convert_options=options)
    else:
        spine = pq.read_table(path)
    if time_column not in spine.column_names:
        raise InvalidJoin(f"{path.name} has no column {time_column!r} (columns: {', '.join(spine.column_names)})",
                          field="time")  # fmt: skip
    column = spine.column(time_column)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        index = spine.schema.get_field_index(time_column)
        spine = spine.set_column(
            index, time_column, parse_instants(column, zone=zone, what=f"{path.name}.{time_column}")
        )
    return spine


def run_join(
    lake: LakeClient,
    registry: FeatureGroupRegistry,
    spine_path: Path,
    *,
    time_column: str,
    zone: str | None,
    expressions: Sequence[str],
    out: Path,
) -> dict[str, Any]:
    """Join, write ``out`` (.parquet or .csv) and say how many rows found features in each group."""
    out_kind = FORMATS.get(out.suffix.lower())
    if out_kind is None:
        raise InvalidJoin(f"{out.name}: the output must end in .parquet or .csv", field="out")
    features = requested_features(registry, expressions)
    spine = read_spine(spine_path, time_column, zone)
    groups, inputs = [], []
    for name in features:
        group = registry.get(name)
        info = lake.table(group.table)
        require_rows(info, f"run `python -m data_processing build-features {name}` first")
        groups.append(GroupRows(group, read_arrow(info)))
        inputs.append(table_ref(info))
    started = time.perf_counter()
    joined = point_in_time_join(spine, time_column, groups, features, time_zone=zone)
    seconds = time.perf_counter() - started
    out.parent.mkdir(parents=True, exist_ok=True)
    (pq.write_table if out_kind == "parquet" else pacsv.write_csv)(joined, out)
    matched = {name: _matched(joined, name, names[0]) for name, names in features.items()}
    return {"out": str(out), "rows": joined.num_rows, "matched": matched, "read": inputs,
            "join_seconds": round(seconds, 3)}  # fmt: skip


def _matched(joined: pa.Table, group: str, feature: str) -> int:
    column = joined.column(f"{group}__{feature}")
    return int(joined.num_rows - pc.sum(pc.is_null(column)).as_py() if joined.num_rows else 0)
