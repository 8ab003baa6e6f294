"""Table names, file paths and partitions: the rules every commit obeys."""

from __future__ import annotations

import re
from dataclasses import dataclass

from data_lake.errors import InvalidCommit, InvalidTableName

ZONES = ("raw", "processed", "features")
MAX_PATH_LENGTH = 1000
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


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


def partition_of_path(table: TableName, partition_column: str, path: str, field: str) -> str:
    """The partition value encoded in ``<zone>/<table>/<column>=<value>/<file>.parquet``.

    Readers glob the table directory as is, so a committed file must sit exactly one Hive partition
    directory below it, never in a ``_``/``.`` directory that readers skip.
    """
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidCommit(f"{field}: longer than {MAX_PATH_LENGTH} characters", field=field)
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or any(part in {"", ".", ".."} for part in parts):
        raise InvalidCommit(f"{field}: {path!r} must be a plain relative path under the lake root", field=field)
    if parts[:2] != table.location.split("/"):
        raise InvalidCommit(f"{field}: {path!r} is outside the table directory {table.location!r}", field=field)
    if len(parts) != 4 or not parts[3].endswith(".parquet"):
        raise InvalidCommit(
            f"{field}: {path!r} must be {table.location}/{partition_column}=<value>/<file>.parquet", field=field
        )
    if any(part.startswith(("_", ".")) for part in parts[2:]):
        raise InvalidCommit(f"{field}: {path!r} is in a hidden or staging directory readers skip", field=field)
    column, equals, value = parts[2].partition("=")
    if column != partition_column or not equals or not value:
        raise InvalidCommit(f"{field}: {path!r} is not under a {partition_column}=<value> directory", field=field)
    return value
