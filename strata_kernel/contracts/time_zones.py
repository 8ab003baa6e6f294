"""Time-zone names and the errors of time columns (standard library only: domain code may use it)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from strata_kernel.errors import BadRequest


class NaiveTimeColumn(BadRequest):
    """A time column (or value) without a zone, and no declaration saying which zone its wall-clock times are in."""

    code = "naive_time_column"


class InvalidTimeColumn(BadRequest):
    """Not a time column, an unknown zone, or a wall-clock time its zone does not have (or has twice)."""

    code = "invalid_time_column"


def check_zone(zone: object, what: str = "time_zone") -> str:
    """``zone`` if it is an IANA zone name (``Europe/Madrid``, ``UTC``); InvalidTimeColumn naming ``what`` otherwise."""
    if not isinstance(zone, str) or not zone:
        raise InvalidTimeColumn(f"{what}: must be an IANA time-zone name such as 'Europe/Madrid' or 'UTC'", field=what)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        hint = sorted(name for name in available_timezones() if zone.lower() in name.lower())[:3]
        suffix = f" (did you mean {', '.join(hint)}?)" if hint else " (an IANA name such as 'Europe/Madrid' or 'UTC')"
        raise InvalidTimeColumn(f"{what}: unknown time zone {zone!r}{suffix}", field=what) from None
    return zone


def aware(value: datetime, zone: str | None, what: str) -> datetime:
    """A datetime with a zone: an aware one as is; a naive one read in ``zone`` (refused without one)."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value
    if zone is None:
        raise NaiveTimeColumn(f"{what}: {value.isoformat()} has no time zone and none is declared", field=what)
    return value.replace(tzinfo=ZoneInfo(zone))
