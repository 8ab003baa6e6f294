"""Read the chatbot's lake tables (processed.help_examples / help_articles / help_heldout) with pyarrow.

Tables are Hive-partitioned Parquet (``<location>/<column>=<value>/*.parquet``); the partition column is read
back from the directory names. Rows come sorted by their id, so every run sees the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inference_engine.errors import TrainingDataError
from inference_engine.helpbot.encoding import Article
from inference_engine.ports import TableLocation

if TYPE_CHECKING:
    import pyarrow as pa

EXAMPLE_COLUMNS = ("example_id", "article_id", "source", "token_ids")
ARTICLE_COLUMNS = ("article_id", "url", "title", "answer")


@dataclass(frozen=True)
class Examples:
    """Questions (or titles) with their token ids; ``article_ids`` holds None for an out-of-scope question."""

    example_ids: np.ndarray  # object (str)
    article_ids: np.ndarray  # object (str | None)
    sources: np.ndarray  # object (str)
    token_ids: list[list[int]]
    vectorisers: frozenset[str]  # the ``vectoriser`` column's values, when the table has one

    def __len__(self) -> int:
        return len(self.example_ids)

    def take(self, mask: np.ndarray) -> Examples:
        rows = np.flatnonzero(mask)
        return Examples(
            self.example_ids[rows],
            self.article_ids[rows],
            self.sources[rows],
            [self.token_ids[row] for row in rows],
            self.vectorisers,
        )


def read_examples(table: TableLocation) -> Examples:
    data = _read(table, EXAMPLE_COLUMNS, sort_by="example_id")
    vectorisers = (
        frozenset(v for v in data.column("vectoriser").to_pylist() if v) if "vectoriser" in data.column_names
        else frozenset()
    )  # fmt: skip
    return Examples(
        np.asarray(data.column("example_id").to_pylist(), dtype=object),
        np.asarray(data.column("article_id").to_pylist(), dtype=object),
        np.asarray(data.column("source").to_pylist(), dtype=object),
        [list(ids or []) for ids in data.column("token_ids").to_pylist()],
        vectorisers,
    )


def read_articles(table: TableLocation) -> dict[str, Article]:
    data = _read(table, ARTICLE_COLUMNS, sort_by="article_id")
    return {
        row["article_id"]: Article(row["article_id"], row["title"], row["url"], row["answer"])
        for row in data.select(list(ARTICLE_COLUMNS)).to_pylist()
        if row["article_id"]
    }


def _read(table: TableLocation, columns: tuple[str, ...], sort_by: str) -> pa.Table:
    import pyarrow as pa
    import pyarrow.dataset as ds

    files = table.files  # the version's files, as the catalog lists them
    if not files:
        raise TrainingDataError(f"{table.name} is empty: no Parquet files at {table.location}")
    partitioning = ds.HivePartitioning.discover(infer_dictionary=False)
    dataset = ds.dataset(
        [str(f) for f in files], format="parquet", partitioning=partitioning, partition_base_dir=str(table.location)
    )
    missing = [column for column in columns if column not in dataset.schema.names]
    if missing:
        raise TrainingDataError(f"{table.name} lacks column(s): {', '.join(missing)}")
    data = dataset.to_table()
    if data.num_rows == 0:
        raise TrainingDataError(f"{table.name} is empty: 0 rows at {table.location}")
    for column in (sort_by, "article_id"):  # a partition column reads back as int when its values look numeric
        if column in data.column_names and not pa.types.is_string(data.schema.field(column).type):
            data = data.set_column(data.schema.get_field_index(column), column, data.column(column).cast(pa.string()))
    return data.sort_by(sort_by)
