"""Table names, file paths and partitions: the rules every commit obeys."""

from __future__ import annotations

import re
from dataclasses import dataclass

from data_lake.errors import InvalidCommit, InvalidTableName

ZONES = ("raw", "processed", "features")
MAX_PATH_LENGTH = 1000
#: writers put a commit's files under ``<zone>/<table>/_staging/<run id>/``; only the catalog moves them in
STAGING = "_staging"
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.parquet$")


@dataclass(frozen=True, slots=True)
class TableName:
    zone: str
    name: str

    @classmethod
    def parse(cls, text: str) -> TableName:
        """``"<zone>.<name>"`` with a known zone and a lower-case identifier as name."""
        zone, dot, name = text.partition(".")
        if not dot:
            raise InvalidTableName(f"table name {text!r} must be '<zone>.<name>'", field="table")
        if zone not in ZONES:
            raise InvalidTableName(
                f"unknown zone {zone!r} in {text!r}; expected one of {', '.join(ZONES)}", field="zone"
            )
        if not _IDENTIFIER.match(name):
            raise InvalidTableName(
                f"table name {name!r} must start with a letter and use only a-z, 0-9 and '_'", field="table"
            )
        return cls(zone, name)

    @property
    def qualified(self) -> str:
        return f"{self.zone}.{self.name}"

    @property
    def location(self) -> str:
        """Directory of the table relative to the lake root (POSIX)."""
        return f"{self.zone}/{self.name}"


def check_partition_column(column: str) -> None:
    if not _IDENTIFIER.match(column):
        raise InvalidCommit(
            f"partition_column {column!r} must start with a letter and use only a-z, 0-9 and '_'",
            field="partition_column",
        )


@dataclass(frozen=True, slots=True)
class StagedPath:
    """Where a writer staged a file, and where the catalog puts it when the commit is recorded."""

    source: str  # <zone>/<table>/_staging/<run>/<column>=<value>/<file>.parquet
    run_id: str
    partition: str
    file_name: str

    def target(self, table: TableName, partition_column: str, index: int) -> str:
        """``<zone>/<table>/<column>=<value>/part-<run>-<index>.parquet``: unique in the table, named by its run."""
        return f"{table.location}/{partition_column}={self.partition}/part-{self.run_id}-{index}.parquet"


def staged_path(table: TableName, partition_column: str, path: str, field: str) -> StagedPath:
    """Parse a staged file's path: it must sit in one run directory of this table's staging area, one Hive
    partition directory deep. Committed files (outside ``_staging``) can never be named: a commit only ever adds
    files a writer has just staged."""
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidCommit(f"{field}: longer than {MAX_PATH_LENGTH} characters", field=field)
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or any(part in {"", ".", ".."} for part in parts):
        raise InvalidCommit(f"{field}: {path!r} must be a plain relative path under the lake root", field=field)
    staging = f"{table.location}/{STAGING}"
    if parts[:3] != staging.split("/") or len(parts) != 6:
        raise InvalidCommit(
            f"{field}: {path!r} must be a staged file {staging}/<run>/{partition_column}=<value>/<file>.parquet",
            field=field,
        )
    run_id, directory, name = parts[3], parts[4], parts[5]
    if not _RUN_ID.match(run_id) or not _FILE_NAME.match(name):
        raise InvalidCommit(f"{field}: {path!r} has an unusable run directory or file name", field=field)
    column, equals, value = directory.partition("=")
    if column != partition_column or not equals or not value or value.startswith(("_", ".")):
        raise InvalidCommit(f"{field}: {path!r} is not under a {partition_column}=<value> directory", field=field)
    return StagedPath(path, run_id, value, name)
