"""Which fields of a message break its published contract, all of them, by kind: what a schema monitor counts.

A parser stops at the first bad field (its 400 names one); a monitor needs every field and the kind of fault,
because the fixes differ: ``unknown`` (a field the contract does not have: a producer renamed or added one),
``missing`` (a required field absent or null: the rename's other half) and ``retyped`` (present but of another
type). The contract's own field parsers judge each field, so the monitor and the parser never disagree. Used by
the sidecars (events they read) and by data_processing (request bodies it refused).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from strata_kernel.errors import BadRequest

#: unknown field names come from the producer: only this many get a series of their own
MAX_UNKNOWN_FIELDS = 20
OTHER_FIELD = "(other)"


class ViolationKind(StrEnum):
    UNKNOWN = "unknown"
    MISSING = "missing"
    RETYPED = "retyped"


@dataclass(frozen=True, slots=True)
class Violation:
    field: str
    kind: ViolationKind


#: parses one field's raw value (None when absent) or raises the contract's BadRequest subclass
FieldCheck = Callable[[Any], object]


def field_violations(value: Any, known: Collection[str], checks: Mapping[str, FieldCheck]) -> list[Violation]:
    """Every field of ``value`` outside ``known``, and every checked field its check refuses; a non-object is one
    missing ``body``."""
    if not isinstance(value, Mapping):
        return [Violation("body", ViolationKind.MISSING)]
    found = [Violation(str(name), ViolationKind.UNKNOWN) for name in value if name not in known]
    for name, check in checks.items():
        raw = value.get(name)
        try:
            check(raw)
        except BadRequest:
            found.append(Violation(name, ViolationKind.MISSING if raw is None else ViolationKind.RETYPED))
    return found


class BoundedFieldNames:
    """Keeps a producer sending junk names from blowing up Prometheus: the first MAX_UNKNOWN_FIELDS unknown names
    keep their own label, later ones count as ``(other)``. Not thread-safe: one per consumer, or behind a lock."""

    def __init__(self, limit: int = MAX_UNKNOWN_FIELDS) -> None:
        self._limit = limit
        self._seen: set[str] = set()

    def __call__(self, violations: Iterable[Violation]) -> list[Violation]:
        bounded = []
        for violation in violations:
            if violation.kind is ViolationKind.UNKNOWN and violation.field not in self._seen:
                if len(self._seen) >= self._limit:
                    violation = Violation(OTHER_FIELD, ViolationKind.UNKNOWN)
                else:
                    self._seen.add(violation.field)
            bounded.append(violation)
        return bounded
