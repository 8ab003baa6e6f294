"""Point-in-time join on one machine: a vectorised sort-merge in numpy over Arrow columns.

Rule, per (entity id, nominal time t) of the spine and per feature group: the newest group row (by event
time, then created_at) among the rows *available* at t, if its event time is within the group's TTL of t;
otherwise nulls. A row is available at t when its event time <= t and its created_at <= t, so a value
computed late (created after t) is never used for t even if its event time is earlier. Batch groups
(``kind: batch``) stamp created_at with the job's run time, which for a backfill lies after
every order: for them availability is the nominal time alone (``feature_time`` is the end of the data the
row summarises, see the group YAML). Spine rows are all kept, in order.

How: per group, sort rows by (entity, availability), carry the best (event, created) row seen so far in each
entity's run, then find each spine row's last available position with one ``searchsorted``. O((n+m) log(n+m)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from data_processing.domain.feature_groups import FeatureGroup

CREATED_AT = "created_at"
Index = npt.NDArray[np.int64]


@dataclass(frozen=True)
class GroupRows:
    """A feature group's offline rows (entity, nominal time, created_at, features) for one join."""

    group: FeatureGroup
    rows: pa.Table
    honours_created_at: bool | None = None  # None: decided by the group's kind

    @property
    def uses_created_at(self) -> bool:
        if self.honours_created_at is not None:
            return self.honours_created_at
        return self.group.kind != "batch" and CREATED_AT in self.rows.column_names


def point_in_time_join(
    spine: pa.Table, time_column: str, groups: Sequence[GroupRows], features: dict[str, tuple[str, ...]]
) -> pa.Table:
    """``spine`` plus one ``<group>__<feature>`` column per requested feature, in the spine's row order."""
    spine_times = _micros(spine.column(time_column))
    result = spine
    for item in groups:
        match = match_rows(spine.column(item.group.entity), spine_times, item)
        indices = pa.array(match, mask=match < 0)
        for name in features[item.group.name]:
            result = result.append_column(f"{item.group.name}__{name}", item.rows.column(name).take(indices))
    return result


def match_rows(spine_entities: pa.ChunkedArray, spine_times: npt.NDArray[np.int64], item: GroupRows) -> Index:
    """For each spine row, the index of its group row in ``item.rows`` or -1."""
    rows, group = item.rows, item.group
    keys = _codes(spine_entities, rows.column(group.entity))
    spine_keys, row_keys = keys[: len(spine_times)], keys[len(spine_times) :]
    event = _micros(rows.column(group.nominal_time))
    created = _micros(rows.column(CREATED_AT)) if CREATED_AT in rows.column_names else event.copy()
    created = np.where(created == _NULL, event, created)  # unknown creation time: the event time
    available = np.maximum(event, created) if item.uses_created_at else event
    usable = (event != _NULL) & (row_keys >= 0)
    best, position_keys, position_times = _best_so_far(row_keys, available, event, created, usable)
    spine_ok = (spine_times != _NULL) & (spine_keys >= 0)
    position = _last_at_or_before(position_keys, position_times, spine_keys, spine_times)
    found = spine_ok & (position >= 0)
    found[found] &= position_keys[position[found]] == spine_keys[found]
    match = np.full(len(spine_times), -1, dtype=np.int64)
    match[found] = best[position[found]]
    ttl = int(group.ttl.total_seconds() * 1_000_000)
    expired = match >= 0
    expired[expired] = spine_times[expired] - event[match[expired]] > ttl
    match[expired] = -1
    return match


_NULL = np.iinfo(np.int64).min


def _micros(column: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.int64]:
    """Timestamps as int64 microseconds; nulls become the _NULL sentinel."""
    as_int = pc.cast(pc.cast(column, pa.timestamp("us")), pa.int64())
    return np.asarray(pc.fill_null(as_int, _NULL).to_numpy(zero_copy_only=False), dtype=np.int64)


def _codes(spine_entities: pa.ChunkedArray, row_entities: pa.ChunkedArray) -> Index:
    """Dense integer codes of entity ids shared by spine and rows (-1 for null ids), by hashing."""
    both = pa.chunked_array([*_as_string(spine_entities).chunks, *_as_string(row_entities).chunks], pa.string())
    encoded = pc.dictionary_encode(both.combine_chunks())
    return np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _as_string(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column if column.type == pa.string() else pc.cast(column, pa.string())


def _best_so_far(
    keys: Index, available: Index, event: Index, created: Index, usable: npt.NDArray[np.bool_]
) -> tuple[Index, Index, Index]:
    """Rows sorted by (entity, availability); for each position the best row available up to it.

    Returns (best row index per position, entity code per position, availability per position).
    """
    rows = np.flatnonzero(usable)
    order = rows[np.lexsort((created[rows], event[rows], available[rows], keys[rows]))]
    # rank of each row by (event, created): larger = newer = preferred
    by_recency = rows[np.lexsort((created[rows], event[rows]))]
    rank = np.empty(len(keys), dtype=np.int64)
    rank[by_recency] = np.arange(len(by_recency))
    width = max(len(by_recency), 1)
    sorted_keys = keys[order]
    # keys ascend along ``order``, so a running max of key*width+rank never leaks across entities
    running = np.maximum.accumulate(sorted_keys * width + rank[order]) if len(order) else order
    best = by_recency[running - sorted_keys * width] if len(order) else order
    return best, sorted_keys, available[order]


def _last_at_or_before(keys: Index, times: Index, query_keys: Index, query_times: Index) -> Index:
    """Index of the last (key, time) <= each query (lexicographic), -1 if none; ``keys, times`` sorted."""
    if len(keys) == 0:
        return np.full(len(query_keys), -1, dtype=np.int64)
    distinct, inverse = np.unique(np.concatenate([times, query_times]), return_inverse=True)
    ranks = inverse.astype(np.int64)
    span = len(distinct) + 1
    sorted_composite = keys * span + ranks[: len(times)]
    query_composite = query_keys * span + ranks[len(times) :]
    return np.searchsorted(sorted_composite, query_composite, side="right").astype(np.int64) - 1
