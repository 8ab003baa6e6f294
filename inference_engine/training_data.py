"""Read a training set from the lake into numpy arrays and split it by time (no pandas)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from inference_engine.domain.features import (
    GROUP_COLUMN,
    LABEL_COLUMN,
    TIME_COLUMN,
    feature_columns,
    missing_columns,
)
from inference_engine.errors import TrainingDataError

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class TrainingSet:
    """Rows sorted by (placed_at, order_id), so every split and every run sees the same order."""

    features: tuple[str, ...]
    x: np.ndarray  # float32 (rows, features), NaN = missing
    y: np.ndarray  # float64 label
    groups: np.ndarray  # restaurant_id per row (baseline)
    placed_at: np.ndarray  # datetime64[us]

    def __len__(self) -> int:
        return len(self.y)

    def take(self, mask: np.ndarray) -> TrainingSet:
        return TrainingSet(self.features, self.x[mask], self.y[mask], self.groups[mask], self.placed_at[mask])


@dataclass(frozen=True)
class TimeSplit:
    train: TrainingSet  # everything before the held-out window
    holdout: TrainingSet  # the last ``holdout_days`` of placed_at
    holdout_start: np.datetime64


def read_training_set(location: Path) -> TrainingSet:
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc

    # partition directories only: the table's ``_staging`` area is deeper and never matched
    pattern = str(location / "*" / "*.parquet")
    if not list(location.glob("*/*.parquet")):
        raise TrainingDataError(f"training set at {location} has no Parquet files")
    with duckdb.connect() as con:
        relation = con.sql(f"SELECT * FROM read_parquet('{_sql_string(pattern)}', hive_partitioning=true)")
        columns = relation.columns
        _check_columns(columns)
        features = feature_columns(columns)
        table = relation.order(f"{TIME_COLUMN}, order_id").arrow()
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    label = pc.cast(table.column(LABEL_COLUMN), pa.float64()).to_numpy(zero_copy_only=False)
    known = ~np.isnan(label)  # a row without a label teaches nothing
    x = np.column_stack([_numeric(table, feature) for feature in features]).astype(np.float32)
    placed_at = pc.cast(table.column(TIME_COLUMN), pa.timestamp("us")).to_numpy(zero_copy_only=False)
    groups = np.asarray(table.column(GROUP_COLUMN).to_pylist(), dtype=object)
    return TrainingSet(tuple(features), x[known], label[known], groups[known], placed_at[known])


FEATURE_SET_FILE = "_feature_set.json"


def feature_set_tags(location: Path) -> dict[str, str]:
    """The feature set (canonical expressions + DSL) that data_processing stored beside the training set.

    It travels with the model as the version tag ``feature_set`` so serving can rebuild the same inputs.
    """
    path = location / FEATURE_SET_FILE
    if not path.is_file():
        return {}
    return {"feature_set": path.read_text()}


def split_by_time(data: TrainingSet, holdout_days: int) -> TimeSplit:
    """Held out = whole days: from the start of (last day - holdout_days + 1) to the end."""
    if len(data) == 0:
        raise TrainingDataError("training set has no labelled rows")
    last_day = data.placed_at.max().astype("datetime64[D]")
    holdout_start = (last_day - np.timedelta64(holdout_days - 1, "D")).astype("datetime64[us]")
    in_holdout = data.placed_at >= holdout_start
    return TimeSplit(data.take(~in_holdout), data.take(in_holdout), holdout_start)


def split_validation(train: TrainingSet, fraction: float) -> tuple[TrainingSet, TrainingSet]:
    """The latest ``fraction`` of the training window is the early-stopping slice (it imitates the future)."""
    n_valid = max(1, int(len(train) * fraction))
    cut = np.zeros(len(train), dtype=bool)
    cut[len(train) - n_valid :] = True
    return train.take(~cut), train.take(cut)


def check_sizes(split: TimeSplit, *, min_training_rows: int, min_holdout_rows: int, holdout_days: int) -> None:
    if len(split.train) < min_training_rows:
        raise TrainingDataError(
            f"training set too small: {len(split.train)} rows before the last {holdout_days} days, "
            f"need at least {min_training_rows}"
        )
    if len(split.holdout) < min_holdout_rows:
        raise TrainingDataError(
            f"training set too small: {len(split.holdout)} held-out rows, need at least {min_holdout_rows}"
        )


def _check_columns(columns: list[str]) -> None:
    missing = missing_columns(columns, [LABEL_COLUMN, TIME_COLUMN, GROUP_COLUMN, "order_id"])
    if missing:
        raise TrainingDataError(f"training set lacks column(s): {', '.join(missing)}")
    if not feature_columns(columns):
        raise TrainingDataError("training set has no feature columns (names containing '__')")


def _numeric(table: pa.Table, column: str) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    values = table.column(column)
    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type) or pa.types.is_boolean(values.type)):
        raise TrainingDataError(f"feature column {column} is not numeric ({values.type})")
    return pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)


def _sql_string(text: str) -> str:
    return text.replace("'", "''")
