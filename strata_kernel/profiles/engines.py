"""Where batches come from: DuckDB on this machine, Spark on a cluster. Both return one profile per file.

A file is the unit because files are immutable: a table version is a set of files, so its profile is the merge
of its files' profiles, and a commit only profiles the files it adds. Both engines feed the same
:class:`~strata_kernel.profiles.builder.ProfileBuilder`; only the scan differs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from strata_kernel.profiles.builder import ProfileBuilder
from strata_kernel.profiles.merge import merge_profiles
from strata_kernel.profiles.model import SketchParams, TableProfile

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

BATCH_ROWS = 65_536
_FILE_COLUMN = "__strata_profile_file"


@dataclass(frozen=True, slots=True)
class FileRef:
    path: str  # absolute path of a Parquet file
    partition: str | None = None  # its Hive partition value (it is in the directory name, not in the file)


def profile_files_duckdb(
    files: Sequence[FileRef], *, partition_column: str | None = None, params: SketchParams | None = None
) -> dict[str, TableProfile]:
    """Profile each file with DuckDB's Parquet scan (parallel over row groups), batch by batch: memory stays at
    one batch whatever the file size."""
    import duckdb

    connection = duckdb.connect(":memory:")
    try:
        results = {}
        for file in files:
            builder = ProfileBuilder(partition=file.partition, partition_column=partition_column, params=params)
            scan = connection.sql(
                "SELECT * FROM read_parquet($path, hive_partitioning = false)", params={"path": file.path}
            )
            reader = scan.to_arrow_reader(BATCH_ROWS)
            for batch in reader:
                builder.update(batch)
            results[file.path] = builder.finish()
        return results
    finally:
        connection.close()


def profile_files_spark(
    spark: SparkSession,
    files: Sequence[FileRef],
    *,
    partition_column: str | None = None,
    params: SketchParams | None = None,
) -> dict[str, TableProfile]:
    """Profile each file on the cluster: executors build partial profiles per file (``mapInArrow``), the driver
    merges the partials of a file that Spark split over several tasks."""
    from pyspark.sql import functions as F  # noqa: N812 (pyspark's convention)

    if not files:
        return {}
    params = params or SketchParams()
    partitions = {file.path: file.partition for file in files}
    frame = (
        spark.read.option("mergeSchema", "true")
        .parquet(*[file.path for file in files])
        .withColumn(_FILE_COLUMN, F.input_file_name())
    )
    partials = frame.mapInArrow(_profile_batches(params), "path string, profile string").collect()
    return _merge_partials([(_local_path(row["path"]), row["profile"]) for row in partials], partitions,
                           partition_column)  # fmt: skip


def _profile_batches(params: SketchParams) -> Any:
    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import json

        import pyarrow as pa
        import pyarrow.compute as pc

        builders: dict[str, ProfileBuilder] = {}
        for batch in batches:
            paths = batch.column(_FILE_COLUMN)
            data = batch.drop_columns([_FILE_COLUMN]) if hasattr(batch, "drop_columns") else batch
            names = pc.unique(paths).to_pylist()
            for path in names:  # a batch comes from one file, but nothing in Spark promises it
                rows = data if len(names) == 1 else data.filter(pc.equal(paths, path))
                builders.setdefault(path, ProfileBuilder(params=params)).update(rows)
        if builders:
            texts = [json.dumps(builder.finish().to_dict()) for builder in builders.values()]
            yield pa.RecordBatch.from_pydict({"path": list(builders), "profile": texts})

    return run


def _merge_partials(
    partials: list[tuple[str, str]], partitions: dict[str, str | None], partition_column: str | None
) -> dict[str, TableProfile]:
    import json

    by_file: dict[str, list[TableProfile]] = {}
    for path, text in partials:
        by_file.setdefault(path, []).append(TableProfile.from_dict(json.loads(text)))
    results = {}
    for path, partition in partitions.items():
        merged = merge_profiles(by_file.get(path, []))
        results[path] = _in_partition(merged, partition, partition_column)
    return results


def _in_partition(profile: TableProfile, partition: str | None, column: str | None) -> TableProfile:
    from dataclasses import replace

    from strata_kernel.profiles.model import Partition

    partitions = (Partition(partition, profile.rows, 1),) if partition is not None else ()
    return replace(profile, partitions=partitions, partition_column=column)


def _local_path(uri: str) -> str:
    """``file:///a/b%20c.parquet`` -> ``/a/b c.parquet`` (Spark's ``input_file_name`` is a URI)."""
    parts = urlsplit(uri)
    return unquote(parts.path) if parts.scheme in ("file", "") else uri
