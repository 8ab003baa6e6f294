"""Client of the data lake: Parquet files under a shared root + the data-lake catalog's HTTP API.

Writers stage Hive-style partitioned Parquet files under ``<lake_root>/<zone>/<table>/_staging/<run_id>/`` and
then *commit* them to the catalog (schema, partitions, row counts, job and inputs = lineage). The catalog checks
every file's footer against what the commit declares, moves the files into the table and records the version; a
refused commit leaves nothing in the table.

Readers read one committed version: the exact files the catalog lists for it (``TableInfo.files``, given to DuckDB,
pyarrow or Spark by ``committed_files``), never a glob of the table's directory. A commit moves its files in before
the catalog records it, and the files it supersedes stay for the catalog's retention period (5 minutes by default)
so that a reader that listed the previous version reads it whole: the directory holds both, and a glob may read any
mix of them.

Layout: ``<lake_root>/<zone>/<table>/<partition_column>=<value>/part-<run_id>-<n>.parquet``.
Files being written live under ``<table>/_staging/<run_id>/`` (ignored by readers: ``_`` prefix).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from strata_kernel.contracts.lake_commit import Column, CommitAnswer, CommitRequest, StagedFile
from strata_kernel.errors import Conflict, StrataError
from strata_kernel.http import ServiceClient
from strata_kernel.settings import StrataSettings
from strata_kernel.time_columns import normalise_units

ZONES = ("raw", "processed", "features")


@dataclass(frozen=True)
class TableInfo:
    name: str  # "<zone>.<table>"
    location: Path
    partition_column: str
    schema: list[dict[str, str]]
    version: int
    rows: int
    partitions: list[dict[str, Any]] = field(default_factory=list)
    #: the files of ``version``, absolute, in the catalog's order (``<col>=<value>/part-<run>-<n>.parquet``)
    files: tuple[Path, ...] = ()


def committed_files(info: TableInfo) -> list[str]:
    """The Parquet files of the table version ``info`` describes, as paths every engine reads: DuckDB's
    ``read_parquet([...])``, ``pyarrow.dataset.dataset([...], partition_base_dir=info.location)``, Spark's
    ``spark.read.option("basePath", info.location).parquet(*files)`` (the partition column comes from the paths).

    Raises Conflict when the version has no files (nothing to read; an engine would fail less clearly)."""
    if not info.files:
        raise Conflict(f"{info.name} v{info.version} has no files", code="table_empty")
    return [str(path) for path in info.files]


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


class LakeClient:
    def __init__(self, lake_root: Path, catalog: ServiceClient) -> None:
        self.root = lake_root.resolve()
        self._catalog = catalog

    @classmethod
    def from_settings(cls, settings: StrataSettings, lake_root: Path | None = None) -> LakeClient:
        root = lake_root if lake_root is not None else settings.var_dir / "lake"
        client = ServiceClient(
            "data_lake",
            settings.data_lake_url,
            timeout_seconds=max(settings.http_timeout_seconds, 30.0),
            retries=settings.http_retries,
            credential=settings.service_credential(),
        )
        return cls(root, client)

    def table_dir(self, table: str) -> Path:
        zone, name = split_table_name(table)
        return self.root / zone / name

    def staging_dir(self, table: str, run_id: str) -> Path:
        path = self.table_dir(table) / "_staging" / run_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def write_arrow(
        self,
        table: str,
        data: pa.Table,
        *,
        partition_column: str,
        job: str,
        inputs: Sequence[str],
        mode: str = "append",
        continuous: bool = False,
    ) -> dict[str, Any]:
        """Write ``data`` partitioned by ``partition_column`` and commit it; returns the catalog's answer.

        Timestamps are written in microseconds (what every reader, Spark included, can read).
        """
        data = normalise_units(data)
        run_id = new_run_id()
        staging = self.staging_dir(table, run_id)
        pq.write_to_dataset(
            data,
            root_path=str(staging),
            partition_cols=[partition_column],
            basename_template=f"part-{run_id}-{{i}}.parquet",
        )
        return self.commit_staged(table, staging, partition_column=partition_column, job=job, inputs=inputs, mode=mode,
                                  continuous=continuous)  # fmt: skip

    def commit_staged(
        self,
        table: str,
        staging: Path,
        *,
        partition_column: str,
        job: str,
        inputs: Sequence[str],
        mode: str = "append",
        continuous: bool = False,
    ) -> dict[str, Any]:
        """Commit the Hive-partitioned Parquet files of ``staging`` (the catalog moves them into the table).
        ``continuous``: a stream's flush (see :class:`CommitRequest`).

        Works for files written by pyarrow or by Spark (``df.write.partitionBy(col).parquet(staging)``). Committing
        the same staging run again (a retry whose answer was lost) answers the version it already became.
        """
        files: list[StagedFile] = []
        schema: pa.Schema | None = None
        prefix = f"{partition_column}="
        for source in sorted(staging.rglob("*.parquet")):
            partition_dir = source.parent.name
            if not partition_dir.startswith(prefix) or source.parent.parent != staging:
                raise ValueError(f"{source} is not under a {prefix}<value> directory of {staging}")
            metadata = pq.read_metadata(source)
            if metadata.num_rows == 0:
                source.unlink()
                continue
            schema = schema or metadata.schema.to_arrow_schema()
            files.append(
                StagedFile(str(source.relative_to(self.root)), partition_dir[len(prefix) :], metadata.num_rows)
            )
        try:
            result = self.commit(table, files, partition_column=partition_column, schema=schema, job=job, inputs=inputs,
                                 mode=mode, continuous=continuous)  # fmt: skip
        except StrataError as exc:
            if exc.status < 500:  # refused: nothing of it may linger (on a 5xx the commit may have been recorded)
                shutil.rmtree(staging, ignore_errors=True)
            raise
        shutil.rmtree(staging, ignore_errors=True)  # what the catalog did not take: Spark's _SUCCESS and .crc files
        return result

    def commit(
        self,
        table: str,
        files: Sequence[StagedFile],  # staged files, paths relative to the lake root
        *,
        partition_column: str,
        schema: pa.Schema | None,
        job: str,
        inputs: Sequence[str],
        mode: str = "append",
        continuous: bool = False,
    ) -> dict[str, Any]:
        columns = arrow_schema_to_columns(schema) if schema is not None else []
        request = CommitRequest(
            partition_column=partition_column,
            schema=tuple(Column(c["name"], c["type"]) for c in columns),
            files=tuple(files),
            job=job,
            mode=mode,
            inputs=tuple(inputs),
            continuous=continuous,
        )
        answer = self._catalog.post(f"/v1/tables/{table}/commits", request.to_wire())
        return CommitAnswer.from_wire(answer).to_wire()

    def table(self, table: str, version: int | None = None) -> TableInfo:
        """The table's latest version, or ``version`` (Conflict once its files were deleted)."""
        info = self._catalog.get(f"/v1/tables/{table}", None if version is None else {"version": version})
        return TableInfo(
            name=info["name"],
            location=self.root / info["location"],
            partition_column=info["partition_column"],
            schema=info["schema"],
            version=info["version"],
            rows=info["rows"],
            partitions=info.get("partitions", []),
            files=tuple(self.root / file["path"] for file in info.get("files", [])),
        )

    def hold(self, table: str, version: int, holder: str) -> None:
        """Keep ``version``'s files past the lake's retention period (a training run: its model stays rebuildable
        from what it read); NotFound for an unknown version, Conflict once its files are gone."""
        self._catalog.post(f"/v1/tables/{table}/holds", {"version": version, "holder": holder})

    def holds(self, table: str) -> list[dict[str, Any]]:
        """Who keeps which versions of ``table`` past the retention period: ``{version, holder, held_at}`` by
        version; NotFound for an unknown table."""
        return list(self._catalog.get(f"/v1/tables/{table}/holds").get("holds") or [])

    def release(self, table: str, version: int, holder: str) -> None:
        """Drop ``holder``'s hold on ``version`` (operator only): once nobody holds it, the lake's retention deletes
        its replaced files as for any version. NotFound for an unknown table, version or hold."""
        self._catalog.request("DELETE", f"/v1/tables/{table}/holds/{version}", params={"holder": holder})


def split_table_name(table: str) -> tuple[str, str]:
    zone, _, name = table.partition(".")
    if zone not in ZONES or not name or not name.replace("_", "").isalnum():
        raise ValueError(f"table name {table!r} must be '<zone>.<name>' with zone in {ZONES}")
    return zone, name


def arrow_schema_to_columns(schema: pa.Schema) -> list[dict[str, str]]:
    return [{"name": f.name, "type": str(f.type)} for f in schema]
