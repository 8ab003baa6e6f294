"""Column schemas and the compatibility rule between versions of a table.

Readers glob every file of a table at once, so a column must keep its *kind* across versions: a new
column is fine (older files read it as null), an existing column turning from integer to string is not.
Width changes within a kind (int32 -> int64, string -> large_string, timestamp[ms] -> timestamp[us]) are
fine: DuckDB and Spark unify them. Nanosecond timestamps are refused outright: Spark cannot read them (what
pandas writes by default broke every Spark job downstream, far from the writer); writers normalise to
microseconds (``strata_kernel.time_columns.normalise_units``, done by ``LakeClient.write_arrow`` and
``python -m data_lake load``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from data_lake.errors import InvalidCommit, SchemaConflict

_KIND_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("integer", re.compile(r"^u?int(8|16|32|64)$|^(tiny|small|big)?int(eger)?$|^long$")),
    ("float", re.compile(r"^(half)?float(16|32|64)?$|^double$")),
    ("string", re.compile(r"^(large_)?(string|utf8)$")),
    ("binary", re.compile(r"^(large_)?binary$")),
    ("bool", re.compile(r"^bool(ean)?$")),
    ("date", re.compile(r"^date(32|64)?(\[\w+\])?$")),
)
_TIMESTAMP = re.compile(r"^timestamp(\[(?P<unit>\w+)(, tz=(?P<tz>[^\]]+))?\])?$")


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str

    @property
    def kind(self) -> str:
        return type_kind(self.type)


def type_kind(type_name: str) -> str:
    """The family a type belongs to; types of one family are interchangeable for readers."""
    normalised = type_name.strip().lower()
    timestamp = _TIMESTAMP.match(normalised)
    if timestamp:
        tz = timestamp.group("tz")
        return f"timestamp[tz={tz}]" if tz else "timestamp"
    for kind, pattern in _KIND_PATTERNS:
        if pattern.match(normalised):
            return kind
    return normalised  # decimals, lists, structs...: only the exact same type is compatible


def _is_nanoseconds(type_name: str) -> bool:
    timestamp = _TIMESTAMP.match(type_name.strip().lower())
    return timestamp is not None and timestamp.group("unit") == "ns"


def parse_schema(columns: Sequence[tuple[str, str]]) -> tuple[Column, ...]:
    if not columns:
        raise InvalidCommit("schema: at least one column is required", field="schema")
    seen: set[str] = set()
    parsed = []
    for index, (name, type_name) in enumerate(columns):
        if not name or not type_name:
            raise InvalidCommit(f"schema.{index}: name and type must not be empty", field=f"schema.{index}")
        if name in seen:
            raise InvalidCommit(f"schema.{index}.name: column {name!r} appears twice", field=f"schema.{index}.name")
        if _is_nanoseconds(type_name):
            raise InvalidCommit(
                f"schema.{index}.type: column {name!r} is {type_name}: nanosecond timestamps cannot be read by Spark; "
                "write microseconds (LakeClient.write_arrow and `python -m data_lake load` do)",
                field=f"schema.{index}.type",
            )
        seen.add(name)
        parsed.append(Column(name, type_name))
    return tuple(parsed)


def evolve_schema(previous: Sequence[Column], new: Sequence[Column], *, replace: bool) -> tuple[Column, ...]:
    """The table's schema after a commit; raises :class:`SchemaConflict` if a column changes kind.

    ``replace`` (a full overwrite) keeps only the new columns; otherwise earlier columns stay, since
    files that still have them remain part of the table.
    """
    earlier = {column.name: column for column in previous}
    for column in new:
        before = earlier.get(column.name)
        if before is not None and before.kind != column.kind:
            raise SchemaConflict(
                f"column {column.name!r} changes type from {before.type} to {column.type}", field="schema"
            )
    if replace:
        return tuple(new)
    added = [column for column in new if column.name not in earlier]
    return (*previous, *added)
