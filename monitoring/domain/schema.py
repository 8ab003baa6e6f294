"""Schema of what a component reads, checked field by field against the published contract.

The contract (``strata_kernel.contracts.events``: an :class:`EventShape` per topic) names every field and how it
is typed. A monitor tells three faults apart, per field, because they have different fixes: ``unknown`` (a field
the contract does not have: a producer renamed or added one), ``missing`` (a required field absent or null: the
rename's other half, or a broken producer) and ``retyped`` (present but of another type: "3" for 3, a number as
text). The contract's own parser judges the type, so the monitor and the consumer never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from strata_kernel.contracts.events import EventShape, InvalidEvent, parse_field


class ViolationKind(StrEnum):
    UNKNOWN = "unknown"
    MISSING = "missing"
    RETYPED = "retyped"


@dataclass(frozen=True, slots=True)
class Violation:
    field: str
    kind: ViolationKind


def schema_violations(shape: EventShape, value: Any) -> list[Violation]:
    """Every field of ``value`` that breaks ``shape`` (empty for a conforming event); a non-object is one missing
    ``body``."""
    if not isinstance(value, Mapping):
        return [Violation("body", ViolationKind.MISSING)]
    known = dict(shape.fields)
    found = [Violation(str(name), ViolationKind.UNKNOWN) for name in value if name not in known]
    for name, kind in shape.fields:
        raw = value.get(name)
        if raw is None:
            if name not in shape.nullable:
                found.append(Violation(name, ViolationKind.MISSING))
            continue
        try:
            parse_field(name, kind, raw)
        except InvalidEvent:
            found.append(Violation(name, ViolationKind.RETYPED))
    return found
