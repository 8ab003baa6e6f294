"""A user's file read in batches: CSV (types inferred by Arrow from the first block) or Parquet (its schema).

Batches are streamed, so a file larger than memory lands too; each batch comes with how far the reader is
(bytes of a CSV, rows of a Parquet file) for the progress bar.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from data_lake.errors import InvalidLoad

#: how much of a CSV Arrow reads per batch; types are inferred from the first one
CSV_BLOCK_BYTES = 16 << 20
PARQUET_BATCH_ROWS = 256_000
FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    unit: str  # "bytes" | "rows"


class FileSource:
    """One file, readable once batch by batch; ``schema`` is known before the first batch."""

    def __init__(self, path: Path, kind: str, text_columns: Sequence[str]) -> None:
        self.path = path
        self.kind = kind
        self._text = tuple(text_columns)
        self._stream: pa.NativeFile | None = None
        self._reader: pacsv.CSVStreamingReader | None = None
        self._parquet: pq.ParquetFile | None = None
        try:
            if kind == "csv":
                self._open_csv()
            else:
                self._parquet = pq.ParquetFile(str(path))
        except (pa.ArrowInvalid, OSError) as exc:
            raise InvalidLoad(f"{path.name}: cannot be read as {kind.upper()} ({_first_line(exc)})") from exc

    @property
    def schema(self) -> pa.Schema:
        if self._reader is not None:
            return self._reader.schema
        assert self._parquet is not None
        return self._parquet.schema_arrow

    def batches(self) -> Iterator[tuple[pa.RecordBatch, Progress]]:
        try:
            yield from self._csv_batches() if self._reader is not None else self._parquet_batches()
        except pa.ArrowInvalid as exc:  # e.g. a later CSV block holds "n/a" in a column inferred as int64
            raise InvalidLoad(f"{self.path.name}: {_first_line(exc)}") from exc
        finally:
            self.close()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()

    def _open_csv(self) -> None:
        self._stream = pa.OSFile(str(self.path))
        delimiter = "\t" if self.path.suffix.lower() == ".tsv" else ","
        self._reader = pacsv.open_csv(
            self._stream,
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(self._text, pa.string())),
        )

    def _csv_batches(self) -> Iterator[tuple[pa.RecordBatch, Progress]]:
        assert self._reader is not None and self._stream is not None
        total = self.path.stat().st_size
        for batch in self._reader:
            yield batch, Progress(min(self._stream.tell(), total), total, "bytes")

    def _parquet_batches(self) -> Iterator[tuple[pa.RecordBatch, Progress]]:
        assert self._parquet is not None
        total, done = self._parquet.metadata.num_rows, 0
        for batch in self._parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            done += batch.num_rows
            yield batch, Progress(done, total, "rows")


def open_source(path: Path, text_columns: Sequence[str] = ()) -> FileSource:
    """The file as a batch source; its format comes from its suffix (.csv/.tsv/.txt or .parquet/.pq)."""
    if not path.is_file():
        raise InvalidLoad(f"{path}: no such file", field="file")
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise InvalidLoad(f"{path.name}: unknown format; use a .csv, .tsv or .parquet file", field="file")
    return FileSource(path, kind, text_columns)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
