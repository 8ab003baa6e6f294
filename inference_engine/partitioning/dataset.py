"""The one persisted split of a partitioned training run, and the partition metadata derived from it.

The training set is read once, sorted by time, and split globally by time: the last ``holdout_days`` are
held out (final evaluation), the latest ``validation_fraction`` of the rest is the validation slice (early
stopping and the node-vs-parent decision), the remainder is fitted. One Parquet file holds every row with its
``_part``; each node's data is a filter of it, built on the fly — no per-node copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from inference_engine.domain.features import feature_columns
from inference_engine.errors import TrainingDataError
from inference_engine.partitioning.spec import PartitionSpec
from inference_engine.partitioning.tree import NodeKey

if TYPE_CHECKING:
    import pyarrow as pa

PART = "_part"
ROW = "_row"
FIT, VALID, HOLDOUT = "fit", "valid", "holdout"


@dataclass(frozen=True)
class SplitInfo:
    features: tuple[str, ...]
    holdout_start: str
    #: node key -> {"fit": n, "valid": n, "holdout": n}
    rows: dict[NodeKey, dict[str, int]]


def read_source(location: Path, spec: PartitionSpec) -> pa.Table:
    """The training set's columns the spec needs, sorted by time (then id) so every run sees one order."""
    import duckdb

    if not list(location.glob("*/*.parquet")) and not list(location.glob("*.parquet")):
        raise TrainingDataError(f"training set at {location} has no Parquet files")
    pattern = str(location / "*" / "*.parquet") if list(location.glob("*/*.parquet")) else str(location / "*.parquet")
    with duckdb.connect() as con:
        relation = con.sql(f"SELECT * FROM read_parquet('{pattern.replace(chr(39), chr(39) * 2)}', "
                           "hive_partitioning=true)")  # fmt: skip
        features = _features(relation.columns, spec)
        extra = [spec.baseline_by] if spec.baseline_by and spec.baseline_by not in spec.partition_by else []
        needed = [*spec.partition_by, spec.time_column, spec.label, *extra]
        missing = [column for column in needed if column not in relation.columns]
        if missing:
            raise TrainingDataError(f"training set lacks column(s): {', '.join(missing)}", field=missing[0])
        order = spec.time_column + (f", {spec.id_column}" if spec.id_column else "")
        keys = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in spec.partition_by)
        values = ", ".join(f'CAST("{c}" AS DOUBLE) AS "{c}"' for c in features)
        # the baseline's grouping column rides along (as text) for the held-out report only
        values += "".join(f', CAST("{c}" AS VARCHAR) AS "{c}"' for c in extra)
        query = (f'SELECT {keys}, CAST("{spec.time_column}" AS TIMESTAMP) AS "{spec.time_column}", {values}, '
                 f'CAST("{spec.label}" AS DOUBLE) AS "{spec.label}" FROM relation '
                 f'WHERE "{spec.label}" IS NOT NULL ORDER BY {order}')  # fmt: skip
        try:
            table = con.sql(query).arrow()
        except duckdb.Error as exc:
            raise TrainingDataError(f"training set cannot be read for {spec.name}: {str(exc).splitlines()[0]}") from exc
    return table.read_all() if hasattr(table, "read_all") else table


def _features(columns: list[str], spec: PartitionSpec) -> list[str]:
    if spec.features is None:
        found = feature_columns(columns)
        if not found:
            raise TrainingDataError("training set has no feature columns (names containing '__')", field="features")
        return found
    missing = [column for column in spec.features if column not in columns]
    if missing:
        raise TrainingDataError(f"training set lacks feature column(s): {', '.join(missing)}", field="features")
    return list(spec.features)


def assign_parts(times: np.ndarray, holdout_days: int, validation_fraction: float) -> tuple[np.ndarray, str]:
    """``_part`` of every row (times sorted ascending) and the first held-out instant."""
    if len(times) == 0:
        raise TrainingDataError("training set has no labelled rows")
    last_day = times.max().astype("datetime64[D]")
    holdout_start = (last_day - np.timedelta64(holdout_days - 1, "D")).astype(times.dtype)
    parts = np.full(len(times), FIT, dtype=object)
    in_holdout = times >= holdout_start
    parts[in_holdout] = HOLDOUT
    n_train = int((~in_holdout).sum())
    n_valid = max(1, int(n_train * validation_fraction)) if n_train else 0
    parts[n_train - n_valid : n_train] = VALID  # rows are time-sorted: the latest training rows validate
    return parts, str(holdout_start)


def write_split(table: pa.Table, spec: PartitionSpec, path: Path, holdout_days: int, validation_fraction: float) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    times = table.column(spec.time_column).to_numpy(zero_copy_only=False).astype("datetime64[us]")
    parts, holdout_start = assign_parts(times, holdout_days, validation_fraction)
    table = table.append_column(PART, pa.array(parts.tolist(), pa.string()))
    table = table.append_column(ROW, pa.array(np.arange(len(times), dtype=np.int64)))
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_suffix(".tmp")
    pq.write_table(table, staging, row_group_size=128_000)
    staging.replace(path)  # a half-written split is never mistaken for a finished one
    return holdout_start


def count_rows(path: Path, spec: PartitionSpec) -> dict[NodeKey, dict[str, int]]:
    """Rows per node and part, for every level of the hierarchy (one DuckDB GROUP BY ROLLUP)."""
    import duckdb

    keys = ", ".join(f'"{c}"' for c in spec.partition_by)
    with duckdb.connect() as con:
        rows = con.sql(
            f"SELECT {keys}, GROUPING({keys}) AS g, {PART}, COUNT(*) FROM read_parquet('{path}') "
            f"GROUP BY GROUPING SETS ({', '.join(_prefix_sets(spec.partition_by))})"
        ).fetchall()
    depth = len(spec.partition_by)
    counts: dict[NodeKey, dict[str, int]] = {}
    for row in rows:
        values, grouping, part, count = row[:depth], row[depth], row[depth + 1], row[depth + 2]
        level = depth - bin(grouping).count("1")
        key = tuple(str(v) for v in values[:level])
        counts.setdefault(key, {FIT: 0, VALID: 0, HOLDOUT: 0})[part] = int(count)
    return counts


def _prefix_sets(partition_by: tuple[str, ...]) -> list[str]:
    return ["(" + ", ".join([*(f'"{c}"' for c in partition_by[:size]), PART]) + ")"
            for size in range(len(partition_by) + 1)]  # fmt: skip


def node_arrays(frame: Any, features: list[str], label: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A node's rows (a pandas frame from Spark) -> (x, y) per part, in the split's row order."""
    frame = frame.sort_values(ROW, kind="stable")
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for part in (FIT, VALID):
        rows = frame[frame[PART] == part]
        out[part] = (rows[features].to_numpy(dtype=np.float32, na_value=np.nan), rows[label].to_numpy(np.float64))
    return out
