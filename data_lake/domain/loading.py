"""What a user declares when landing a file in the lake: the target table and the file's time columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from data_lake.domain.tables import TableName
from data_lake.errors import InvalidLoad
from strata_kernel.contracts.time_zones import InvalidTimeColumn, check_zone

#: partition of a loaded table with a time column: the date of its first time column, in that column's zone
TIME_PARTITION = "nominal_date"
#: partition of a loaded table without one: the UTC date of the load
LOAD_PARTITION = "load_date"
LOAD_ZONE = "raw"


@dataclass(frozen=True, slots=True)
class TimeDeclaration:
    """``--time COL[=ZONE]``: COL holds times; ZONE is where its wall-clock values (those without an offset) hang."""

    column: str
    zone: str | None


def parse_time_declarations(items: Sequence[str]) -> tuple[TimeDeclaration, ...]:
    """``["placed_at=Europe/Madrid", "delivered_at"]``; a bad zone or a column declared twice is refused."""
    declared: dict[str, TimeDeclaration] = {}
    for item in items:
        column, equals, zone = (part.strip() for part in item.partition("="))
        if not column or (equals and not zone):
            raise InvalidLoad(f"--time {item!r}: expected COLUMN or COLUMN=ZONE (e.g. placed_at=Europe/Madrid)")
        if column in declared:
            raise InvalidLoad(f"--time: column {column!r} is declared twice", field=column)
        try:
            declared[column] = TimeDeclaration(column, check_zone(zone, f"--time {column}") if equals else None)
        except InvalidTimeColumn as exc:
            raise InvalidLoad(exc.message, field=column) from None
    return tuple(declared.values())


def load_target(table: str) -> TableName:
    """Files land in the raw zone: processed and features tables are what jobs write, with lineage."""
    name = TableName.parse(table)
    if name.zone != LOAD_ZONE:
        raise InvalidLoad(
            f"{table}: files land in the raw zone (raw.<name>); {name.zone} tables are written by jobs", field="table"
        )
    return name
