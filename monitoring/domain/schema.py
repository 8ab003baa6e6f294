"""Schema of the events a component reads, checked field by field against the published contract.

The contract (``strata_kernel.contracts.events``: an :class:`EventShape` per topic) names every field and how it
is typed; the kinds of fault and their counting are the kernel's (``strata_kernel.contracts.schema_check``), which
data_processing uses for the request bodies it refuses, so both count alike.
"""

from __future__ import annotations

from functools import cache, partial
from typing import Any

from strata_kernel.contracts.events import EventShape, FieldKind, parse_field
from strata_kernel.contracts.schema_check import FieldCheck, Violation, ViolationKind, field_violations

__all__ = ["Violation", "ViolationKind", "schema_violations"]


def _check(name: str, kind: FieldKind, nullable: bool, raw: Any) -> None:
    if raw is None and nullable:
        return
    parse_field(name, kind, raw)


@cache
def _checks(shape: EventShape) -> dict[str, FieldCheck]:
    return {name: partial(_check, name, kind, name in shape.nullable) for name, kind in shape.fields}


def schema_violations(shape: EventShape, value: Any) -> list[Violation]:
    """Every field of ``value`` that breaks ``shape`` (empty for a conforming event); a non-object is one missing
    ``body``."""
    return field_violations(value, shape.columns, _checks(shape))
