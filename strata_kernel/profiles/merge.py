"""Merging profiles: the profile of the union of the rows of several profiles, without reading a row again.

Exact fields (rows, nulls, NaNs, min, max, partitions) add up or compare exactly; mean and variance combine
with Chan's formula; sketches merge as DataSketches define it. So a new table version costs the statistics of
its new files plus one merge, whatever the size of the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from strata_kernel.profiles import sketches
from strata_kernel.profiles.model import (
    CATEGORICAL,
    NUMERIC,
    OTHER,
    TEMPORAL,
    ColumnProfile,
    Moments,
    Partition,
    SketchParams,
    TableProfile,
    kind_of_type_name,
)
from strata_kernel.profiles.moments import combine
from strata_kernel.profiles.summary import finish_column


def merge_profiles(profiles: Sequence[TableProfile]) -> TableProfile:
    """One profile of all the rows of ``profiles`` (columns in order of first appearance)."""
    if not profiles:
        return TableProfile(rows=0, columns=())
    params = profiles[0].params
    for profile in profiles[1:]:
        if profile.params != params:
            raise ValueError(f"cannot merge profiles built with different sketch sizes: {params} and {profile.params}")
    names = list(dict.fromkeys(column.name for profile in profiles for column in profile.columns))
    columns = tuple(_merge_column(name, profiles, params) for name in names)
    return TableProfile(
        rows=sum(profile.rows for profile in profiles),
        columns=columns,
        partitions=_merge_partitions(profiles),
        partition_column=next((p.partition_column for p in profiles if p.partition_column), None),
        params=params,
    )


def _merge_partitions(profiles: Sequence[TableProfile]) -> tuple[Partition, ...]:
    rows: dict[str, int] = {}
    files: dict[str, int] = {}
    for profile in profiles:
        for partition in profile.partitions:
            rows[partition.value] = rows.get(partition.value, 0) + partition.rows
            files[partition.value] = files.get(partition.value, 0) + partition.files
    return tuple(Partition(value, rows[value], files[value]) for value in sorted(rows))


def _merge_column(name: str, profiles: Sequence[TableProfile], params: SketchParams) -> ColumnProfile:
    present = [column for profile in profiles if (column := profile.column(name)) is not None]
    absent_rows = sum(profile.rows for profile in profiles if profile.column(name) is None)
    kinds = {column.kind for column in present}
    if len(kinds) > 1:
        raise ValueError(f"column {name!r} is {' and '.join(sorted(kinds))} in different profiles: cannot merge")
    kind = kinds.pop()
    state = {
        "name": name,
        "type": present[-1].type,  # the newest files' type (widths may grow: int32 -> int64)
        "kind": kind,
        "count": sum(column.count for column in present) + absent_rows,
        "nulls": sum(column.nulls for column in present) + absent_rows,  # a file without the column: all missing
        "nan": sum(column.nan for column in present),
        "minimum": _extreme([column.minimum for column in present], min),
        "maximum": _extreme([column.maximum for column in present], max),
        "moments": _moments(present) if kind == NUMERIC else None,
    }
    return finish_column(state, _merge_sketches(kind, present, params), params)


def _extreme(values: list[Any], pick: Any) -> Any:
    known = [value for value in values if value is not None]
    return pick(known) if known else None


def _moments(columns: list[ColumnProfile]) -> Moments:
    total = Moments()
    for column in columns:
        total = combine(total, column.moments or Moments())
    return total


def _merge_sketches(kind: str, columns: list[ColumnProfile], params: SketchParams) -> dict[str, Any]:
    def texts(name: str) -> list[str]:
        return [column.sketches[name] for column in columns if name in column.sketches]

    if kind == OTHER:
        return {}
    merged: dict[str, Any] = {"hll": sketches.hll_result(sketches.merge_hll(texts("hll"), params))}
    if kind in (NUMERIC, TEMPORAL):
        merged["kll"] = sketches.merge_kll(texts("kll"), params)
    if kind == CATEGORICAL:
        merged["frequent"] = sketches.merge_frequent(texts("frequent"), params)
    return merged


def conform(profile: TableProfile, schema: Sequence[tuple[str, str]]) -> TableProfile:
    """``profile`` with exactly the columns of ``schema``, in its order and with its type names: a column no file
    has is all missing; a column the schema does not list is dropped."""
    columns = []
    for name, type_name in schema:
        column = profile.column(name)
        if column is None:
            state = {"name": name, "type": type_name, "kind": kind_of_type_name(type_name), "count": profile.rows,
                     "nulls": profile.rows, "nan": 0, "minimum": None, "maximum": None, "moments": None}  # fmt: skip
            column = finish_column(state, {}, profile.params)
        columns.append(replace(column, type=type_name))
    return TableProfile(profile.rows, tuple(columns), profile.partitions, profile.partition_column, profile.params,
                        dict(profile.meta))  # fmt: skip
