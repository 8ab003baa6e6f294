"""The development flow's findings: what the lake's commit checks found (no profile or window code: the lake's
sidecar, which only polls them, loads none)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LakeFinding:
    """One finding of the lake's commit checks (data_lake/domain/checks.py), as its API lists it."""

    id: int
    table: str
    run_id: str
    field: str
    reason: str
    quarantined: bool
