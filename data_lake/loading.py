"""Use case: land a user's CSV or Parquet file as a new version of a raw table — no code to write.

The file is read in batches (``adapters/file_source.py``); every time column becomes instants in microseconds
(``strata_kernel.time_columns``): declared ones (``--time COL[=ZONE]``) are parsed or localised, an undeclared
timestamp column without a zone is refused (it would mean a different instant to every reader). Rows are
partitioned by the date of the first time column, in its zone (``nominal_date``), or by the day of the load
(``load_date``) when the file has none. Files are staged under the table's ``_staging/<run>/`` and committed
through the catalog like any job's output: it checks their footers, moves them into their partition directories
and records the caller (``data_lake``) in the lineage.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from data_lake.adapters.file_source import FileSource, Progress, open_source
from data_lake.domain.commits import DataFile
from data_lake.domain.loading import (
    LOAD_PARTITION,
    TIME_PARTITION,
    TimeDeclaration,
    load_target,
    parse_time_declarations,
)
from data_lake.domain.tables import TableName
from data_lake.errors import InvalidLoad
from data_lake.services import CatalogService
from strata_kernel.lake import new_run_id
from strata_kernel.time_columns import as_instants, normalise_units, parse_instants

#: the caller a load's lineage names: the data lake's own command, run by an operator or a data scientist
LOADER = "data_lake"

#: rows buffered before the staged partitions are flushed to files (bounds memory on large files)
FLUSH_ROWS = 1_000_000


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LoadPlan:
    """What a load will write, known from the file's header (shown before anything is written)."""

    table: TableName
    source: FileSource
    times: tuple[TimeDeclaration, ...]
    schema: pa.Schema  # the columns as stored (time columns as instants), partition column included
    partition_column: str


@dataclass
class _Staged:
    directory: Path
    buffers: dict[str, list[pa.RecordBatch]] = field(default_factory=dict)
    buffered_rows: int = 0
    files: list[tuple[Path, str, int]] = field(default_factory=list)  # (staged file, partition, rows)

    @property
    def run_id(self) -> str:
        return self.directory.name


class Loader:
    def __init__(self, catalog: CatalogService, lake_root: Path, clock: Callable[[], datetime] = _utc_now) -> None:
        self._catalog = catalog
        self._root = lake_root.resolve()
        self._clock = clock

    def plan(self, path: Path, table: str, times: Sequence[str] = (), text: Sequence[str] = ()) -> LoadPlan:
        """Open the file and derive the stored schema; refuses a bad table, declaration or time column."""
        target, declared = load_target(table), parse_time_declarations(times)
        source = open_source(path, [*text, *(d.column for d in declared)])
        missing = [d.column for d in declared if d.column not in source.schema.names]
        if missing:
            raise InvalidLoad(f"{path.name} has no column(s) {', '.join(missing)} (columns: "
                              f"{', '.join(source.schema.names)})", field=missing[0])  # fmt: skip
        partition = TIME_PARTITION if declared else LOAD_PARTITION
        if partition in source.schema.names:
            raise InvalidLoad(f"{path.name} has a column {partition!r}: the table is partitioned by it; rename it",
                              field=partition)  # fmt: skip
        empty = pa.Table.from_batches([], source.schema)
        stored = self._convert(empty, declared, path.name, partition).schema
        return LoadPlan(target, source, declared, stored, partition)

    def load(
        self, plan: LoadPlan, mode: str = "append", progress: Callable[[Progress], None] | None = None
    ) -> dict[str, Any]:
        """Convert, stage, commit; on any failure nothing is committed and nothing stays in the table."""
        started = time.perf_counter()
        location = self._root / plan.table.location
        staged = _Staged(location / "_staging" / new_run_id())
        try:
            for batch, where in plan.source.batches():
                converted = self._convert(pa.Table.from_batches([batch]), plan.times, plan.source.path.name,
                                          plan.partition_column)  # fmt: skip
                self._stage(staged, converted, plan.partition_column)
                if progress is not None:
                    progress(where)
            self._flush(staged, plan.partition_column)
            if not staged.files:
                raise InvalidLoad(f"{plan.source.path.name} holds no rows: nothing to load")
            files = [
                DataFile(path.relative_to(self._root).as_posix(), value, rows) for path, value, rows in staged.files
            ]
            request = self._catalog.build_request(
                plan.table.qualified, partition_column=plan.partition_column,
                schema=[(f.name, str(f.type)) for f in plan.schema if f.name != plan.partition_column],
                files=files, mode=mode, job="data_lake load", inputs=[_lineage(plan.source.path)], caller=LOADER,
            )  # fmt: skip
            committed = self._catalog.commit(request)  # checks the staged files and moves them into the table
        finally:
            shutil.rmtree(staged.directory, ignore_errors=True)  # whatever was not committed
        return {
            "table": plan.table.qualified,
            "version": committed.version,
            "rows": committed.rows,
            "files": len(files),
            "partitions": len({f.partition for f in files}),
            "mode": mode,
            "partition_column": plan.partition_column,
            "seconds": round(time.perf_counter() - started, 2),
        }

    # --- conversion -------------------------------------------------------------------------------------------
    def _convert(self, table: pa.Table, times: Sequence[TimeDeclaration], origin: str, partition: str) -> pa.Table:
        zones = {d.column: d.zone for d in times}
        for index, column in enumerate(table.schema):
            what = f"{origin}: column {column.name!r}"
            if column.name in zones:
                table = table.set_column(index, column.name, _declared_time(table.column(index), zones[column.name],
                                                                            what))  # fmt: skip
            elif pa.types.is_timestamp(column.type) and column.type.tz is None:
                hint = f"--time {column.name}=<zone> (e.g. Europe/Madrid or UTC)"
                message = f"{what} holds times without a zone: declare where its clock hangs with {hint}"
                raise InvalidLoad(message, field=column.name)
        table = normalise_units(table)
        return table.append_column(partition, self._partition_values(table, times))

    def _partition_values(self, table: pa.Table, times: Sequence[TimeDeclaration]) -> pa.ChunkedArray | pa.Array:
        if not times:
            return pa.array([self._clock().date().isoformat()] * table.num_rows, pa.string())
        first = table.column(times[0].column)
        days = pc.strftime(first, format="%Y-%m-%d")  # an aware column formats in its own zone: its local date
        return pc.fill_null(days, "unknown")

    # --- staging ----------------------------------------------------------------------------------------------
    def _stage(self, staged: _Staged, table: pa.Table, partition: str) -> None:
        values = table.column(partition)
        data = table.drop_columns([partition])
        for value in pc.unique(values).to_pylist():
            rows = data.filter(pc.equal(values, value))
            staged.buffers.setdefault(value, []).extend(rows.to_batches())
            staged.buffered_rows += rows.num_rows
        if staged.buffered_rows >= FLUSH_ROWS:
            self._flush(staged, partition)

    def _flush(self, staged: _Staged, partition: str) -> None:
        for value, batches in staged.buffers.items():
            rows = sum(b.num_rows for b in batches)
            if rows == 0:
                continue
            target = staged.directory / f"{partition}={value}" / f"part-{staged.run_id}-{len(staged.files)}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_batches(batches), target)
            staged.files.append((target, value, rows))
        staged.buffers.clear()
        staged.buffered_rows = 0


def _declared_time(column: Any, zone: str | None, what: str) -> Any:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        instants = parse_instants(column, zone=zone, what=what)
    else:
        instants = as_instants(column, zone=zone, what=what)
    # a declared zone also becomes the column's display zone (its local dates partition the table)
    return instants.cast(pa.timestamp("us", tz=zone)) if zone is not None else instants


def _lineage(path: Path) -> str:
    stat = path.stat()
    modified = datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(timespec="seconds")
    return f"file:{path.resolve()} ({stat.st_size} bytes, modified {modified})"[:500]
