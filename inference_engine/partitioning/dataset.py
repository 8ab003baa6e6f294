"""The one persisted split of a partitioned training run, and the partition metadata derived from it.

The training set is read once, sorted by time, and split globally by time: the last ``holdout_days`` (local dates)
are held out (final evaluation), the latest ``validation_fraction`` of the rest is the validation slice (early
stopping and the node-vs-parent decision), the remainder is fitted. Text features are categorical: their categories
are those of the training window, each replaced by its index (NaN: missing or unseen). One Parquet file holds every
row with its ``_part``; each node's data is a filter of it, built on the fly — no per-node copies.
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
from inference_engine.ports import TableLocation

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


FEATURE_SET_FILE = "_feature_set.json"


def feature_set_tags(location: Path) -> dict[str, str]:
    """The feature set (canonical expressions + DSL) data_processing stored beside the training set: it travels
    with the model as the version tag ``feature_set`` so serving can rebuild the same inputs."""
    path = location / FEATURE_SET_FILE
    return {"feature_set": path.read_text()} if path.is_file() else {}


def read_source(table: TableLocation, spec: PartitionSpec) -> pa.Table:
    """The training set's columns the spec needs, sorted by time (then id) so every run sees one order.

    Numeric features come as doubles, text features as text (categorical: encoded once the split is known), the
    time as the wall clock of the spec's zone (a training set stores instants; an older one naive times).
    """
    import duckdb

    if not table.files:
        raise TrainingDataError(f"training set {table.name} v{table.version} has no Parquet files")
    with duckdb.connect() as con:  # the version's files as the catalog lists them, never a glob of the directory
        relation = con.sql("SELECT * FROM read_parquet(?, hive_partitioning=true)",
                           params=[[str(path) for path in table.files]])  # fmt: skip
        types = {name: str(kind).upper() for name, kind in zip(relation.columns, relation.types, strict=True)}
        features = _features(relation.columns, spec)
        extra = [spec.baseline_by] if spec.baseline_by and spec.baseline_by not in spec.partition_by else []
        needed = [*spec.partition_by, spec.time_column, spec.label, *extra]
        missing = [column for column in needed if column not in relation.columns]
        if missing:
            raise TrainingDataError(f"training set lacks column(s): {', '.join(missing)}", field=missing[0])
        # a total order whatever order the files were written in (Spark's output order varies run to run): by
        # time, then id; without an id, by every column read (rows equal in all of them are interchangeable)
        tie_breakers = [spec.id_column] if spec.id_column else [*spec.partition_by, *features, spec.label, *extra]
        order = ", ".join(f'"{c}"' for c in [spec.time_column, *tie_breakers])
        keys = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in spec.partition_by)
        values = ", ".join(f'CAST("{c}" AS {"VARCHAR" if _is_text(types[c]) else "DOUBLE"}) AS "{c}"'
                           for c in features)  # fmt: skip
        # the baseline's grouping column rides along (as text) for the held-out report only
        values += "".join(f', CAST("{c}" AS VARCHAR) AS "{c}"' for c in extra)
        time = _local_time(spec.time_column, types[spec.time_column], spec.time_zone)
        query = (f'SELECT {keys}{", " if keys else ""}{time} AS "{spec.time_column}", {values}, '
                 f'CAST("{spec.label}" AS DOUBLE) AS "{spec.label}" FROM relation '
                 f'WHERE "{spec.label}" IS NOT NULL ORDER BY {order}')  # fmt: skip
        try:
            table = con.sql(query).arrow()
        except duckdb.Error as exc:
            raise TrainingDataError(f"training set cannot be read for {spec.name}: {str(exc).splitlines()[0]}") from exc
    return table.read_all() if hasattr(table, "read_all") else table


def _is_text(kind: str) -> bool:
    return kind in {"VARCHAR", "STRING", "TEXT"}


def _local_time(column: str, kind: str, zone: str | None) -> str:
    """SQL of the time column on the wall clock of ``zone`` (instants converted; naive ones taken as they are)."""
    if "TIME ZONE" in kind:
        return f"timezone('{(zone or 'UTC').replace(chr(39), '')}', \"{column}\")"
    return f'CAST("{column}" AS TIMESTAMP)'


def categorical_features(table: pa.Table, features: list[str]) -> list[str]:
    import pyarrow as pa

    return [f for f in features if pa.types.is_string(table.schema.field(f).type)]


def encode_categories(
    table: pa.Table, parts: np.ndarray, categorical: list[str]
) -> tuple[pa.Table, dict[str, list[str]]]:
    """Text features -> float codes of their categories in the training window (fit + validation rows, sorted);
    a category seen only in the hold-out, or missing, is NaN (the model's missing value), as at serving time."""
    import pyarrow as pa
    import pyarrow.compute as pc

    training = pa.array(parts != HOLDOUT)
    vocabularies: dict[str, list[str]] = {}
    for name in categorical:
        column = table.column(name)
        seen = pc.unique(pc.filter(column, training)).drop_null()
        vocabulary = sorted(seen.to_pylist())
        codes = pc.index_in(column, value_set=pa.array(vocabulary, pa.string()))
        as_float = pc.cast(codes, pa.float64()).to_numpy(zero_copy_only=False)
        table = table.set_column(table.schema.get_field_index(name), name, pa.array(as_float, from_pandas=True))
        vocabularies[name] = vocabulary
    return table, vocabularies


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


def write_split(
    table: pa.Table, spec: PartitionSpec, path: Path, validation_fraction: float, categorical: list[str]
) -> tuple[str, dict[str, list[str]]]:
    """Persist the split (text features encoded); returns the first held-out instant and the vocabularies."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    times = table.column(spec.time_column).to_numpy(zero_copy_only=False).astype("datetime64[us]")
    parts, holdout_start = assign_parts(times, spec.holdout_days, validation_fraction)
    table, vocabularies = encode_categories(table, parts, categorical)
    table = table.append_column(PART, pa.array(parts.tolist(), pa.string()))
    table = table.append_column(ROW, pa.array(np.arange(len(times), dtype=np.int64)))
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_suffix(".tmp")
    pq.write_table(table, staging, row_group_size=128_000)
    staging.replace(path)  # a half-written split is never mistaken for a finished one
    return holdout_start, vocabularies


def partition_keys(table: pa.Table, partition_by: tuple[str, ...]) -> list[list[str | None]]:
    """Each row's partition values, in hierarchy order (empty lists for a model without partitions)."""
    if not partition_by:
        return [[] for _ in range(table.num_rows)]
    return [list(row) for row in zip(*(table.column(c).to_pylist() for c in partition_by), strict=True)]


def count_rows(path: Path, spec: PartitionSpec) -> dict[NodeKey, dict[str, int]]:
    """Rows per node and part, for every level of the hierarchy (one DuckDB GROUP BY ROLLUP)."""
    import duckdb

    keys = ", ".join(f'"{c}"' for c in spec.partition_by)
    if not keys:  # one node: the global one
        with duckdb.connect() as con:
            parts = con.sql(f"SELECT {PART}, COUNT(*) FROM read_parquet('{path}') GROUP BY {PART}").fetchall()
        return {(): {FIT: 0, VALID: 0, HOLDOUT: 0, **{str(part): int(count) for part, count in parts}}}
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
