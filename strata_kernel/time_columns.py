"""Time columns inside Strata: time-zone aware instants, stored in microseconds.

Two rules every reader and writer of the lake relies on:

* **Zones.** A time column is an instant (``timestamp[us, tz=...]``). A naive column (wall-clock values
  without a zone) means nothing until someone says *where* the clock hung: :func:`as_instants` refuses it
  with a :class:`NaiveTimeColumn` naming the column, unless its declaration names the zone, in which case
  the values are read as wall-clock times of that zone (a time that does not exist there, in a DST gap, or
  that exists twice, in a DST fold, is refused too, naming the value). Joining a naive local-time spine
  against UTC features used to run silently and shift every match by the zone's offset.
* **Units.** Files land in microseconds (:func:`normalise_units`): pandas writes nanoseconds by default,
  which Spark cannot read and which used to break joins far from where the file was written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from strata_kernel.contracts.time_zones import InvalidTimeColumn, NaiveTimeColumn, check_zone

UNIT = "us"
#: the sentinel of a missing instant in int64 microseconds (sorts before every real one)
NULL_MICROS = np.iinfo(np.int64).min

AnyArray: TypeAlias = pa.Array | pa.ChunkedArray

__all__ = [
    "InvalidTimeColumn",
    "NaiveTimeColumn",
    "as_instants",
    "check_zone",
    "micros",
    "normalise_units",
    "parse_instants",
]


def is_naive(kind: pa.DataType) -> bool:
    return pa.types.is_timestamp(kind) and kind.tz is None


def as_instants(column: AnyArray, *, zone: str | None, what: str) -> AnyArray:
    """The column as ``timestamp[us, tz]``: aware columns keep their instants; naive ones need ``zone``.

    Strings are not parsed here (that is the loader's business): a non-timestamp column is an error.
    """
    kind = column.type
    if pa.types.is_date(kind):
        column, kind = pc.cast(column, pa.timestamp(UNIT)), pa.timestamp(UNIT)
    if not pa.types.is_timestamp(kind):
        raise InvalidTimeColumn(f"{what} is {kind}, not a timestamp column", field=what)
    if kind.tz is None:
        if zone is None:
            raise NaiveTimeColumn(
                f"{what} holds timestamps without a time zone: declare the zone its wall-clock times are in "
                "(time_zone: <IANA name, e.g. Europe/Madrid or UTC>), or store instants with a zone",
                field=what,
            )
        column = _localise(column, check_zone(zone), what)
    return _to_micros_unit(column)


def parse_instants(text: AnyArray, *, zone: str | None, what: str) -> AnyArray:
    """ISO-8601 strings as instants: with an offset (``Z``, ``+01:00``) as they say, without one in ``zone``.

    A column mixing both, or holding anything but ISO-8601 dates and times, is refused naming it.
    """
    try:
        return pc.cast(text, pa.timestamp(UNIT, tz="UTC"))  # every value has an offset
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    try:
        naive = pc.cast(text, pa.timestamp(UNIT))  # none has one
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        reason = str(exc).split("\n")[0]
        raise InvalidTimeColumn(
            f"{what}: not ISO-8601 times all with or all without a zone offset ({reason})", field=what
        ) from exc
    return as_instants(naive, zone=zone, what=what)


def micros(column: AnyArray, *, zone: str | None, what: str) -> npt.NDArray[np.int64]:
    """Instants as int64 microseconds since the epoch (UTC); missing values are :data:`NULL_MICROS`."""
    instants = as_instants(column, zone=zone, what=what)
    as_int = pc.cast(instants, pa.int64())
    return np.asarray(pc.fill_null(as_int, NULL_MICROS).to_numpy(zero_copy_only=False), dtype=np.int64)


def normalise_units(table: pa.Table) -> pa.Table:
    """Every timestamp column in microseconds (nanoseconds lose their sub-microsecond digits), zones kept."""
    fields = [_micro_field(field) for field in table.schema]
    if all(new is old for new, old in zip(fields, table.schema, strict=True)):
        return table
    return table.cast(pa.schema(fields, metadata=table.schema.metadata), safe=False)


def localise_columns(table: pa.Table, zones: dict[str, str | None], *, origin: str) -> pa.Table:
    """``table`` with the named time columns as instants (:func:`as_instants` on each)."""
    for name, zone in zones.items():
        index = table.schema.get_field_index(name)
        if index < 0:
            raise InvalidTimeColumn(f"{origin}: no column {name!r}", field=name)
        table = table.set_column(index, name, as_instants(table.column(name), zone=zone, what=f"{origin}.{name}"))
    return table


def naive_columns(schema: pa.Schema, names: Iterable[str] | None = None) -> list[str]:
    """The (named, or all) timestamp columns of ``schema`` that have no zone."""
    wanted = set(names) if names is not None else None
    return [f.name for f in schema if is_naive(f.type) and (wanted is None or f.name in wanted)]


def _micro_field(field: pa.Field) -> pa.Field:
    if pa.types.is_timestamp(field.type) and field.type.unit != UNIT:
        return field.with_type(pa.timestamp(UNIT, tz=field.type.tz))
    return field


def _to_micros_unit(column: AnyArray) -> AnyArray:
    kind = column.type
    if kind.unit == UNIT:
        return column
    return pc.cast(column, pa.timestamp(UNIT, tz=kind.tz), safe=False)


def _localise(column: AnyArray, zone: str, what: str) -> AnyArray:
    try:
        return pc.assume_timezone(column, zone, ambiguous="raise", nonexistent="raise")
    except pa.ArrowInvalid as exc:
        reason = " ".join(str(exc).split())
        message = f"{what}: a wall-clock time that {zone} skips or repeats ({reason})"
        raise InvalidTimeColumn(message, field=what) from exc
