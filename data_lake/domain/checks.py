"""Checks of every commit against its table's schema and recent profile (the development flow's data monitor).

Two kinds of findings, because they call for different actions:

* a **schema break** — the commit's files lack a column the table has (a rename shows as that plus a new column):
  readers would see the column silently null for the new rows, and a training job would learn from holes. Such a
  commit is *quarantined*: its files stay staged (outside what readers glob), the reason is recorded, the writer
  gets a 409 naming the column, and only a commit that says ``accept_schema_change`` lets it in.
  (A column changing kind is refused outright by :func:`data_lake.domain.schema.evolve_schema`.)
* a **profile anomaly** — the commit is unlike the table's recent past: its row count is far off the recent
  commits' (``row_count``), a column is missing much more often (``missing_rate``), a low-cardinality column holds
  values it never had (``new_categories``). Flagged (an alert, the commit's check record), never blocked: a new
  city is news, not an error.

Thresholds (docs/monitoring.md): row count outside 0.2x..5x the median of the last 5 commits (with at least 3);
missing rate 10 points over the previous version's, on at least 50 rows; new categories in columns whose every
value the previous version listed (at most 20 distinct values, counted exactly).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from data_lake.domain.schema import Column
from strata_kernel.profiles.model import CATEGORICAL, TableProfile

ROW_RATIO = 5.0
MIN_COMMITS = 3
RECENT_COMMITS = 5
MISSING_MARGIN = 0.1
MIN_ROWS = 50


class Reason(StrEnum):
    MISSING_COLUMN = "missing_column"
    ADDED_COLUMN = "added_column"
    ROW_COUNT = "row_count"
    MISSING_RATE = "missing_rate"
    NEW_CATEGORIES = "new_categories"


@dataclass(frozen=True, slots=True)
class Finding:
    field: str  # the column at fault ("" for the whole commit: its row count)
    reason: Reason
    detail: str  # one line a person reads

    @property
    def breaks_schema(self) -> bool:
        return self.reason is Reason.MISSING_COLUMN


def schema_findings(table: Sequence[Column], commit: Sequence[Column], partition_column: str) -> list[Finding]:
    """Columns of the table the commit lacks, and (when some are lacking) the ones it adds: a likely rename."""
    held = {column.name for column in commit}
    known = {column.name for column in table}
    lacking = [c.name for c in table if c.name not in held and c.name != partition_column]
    findings = [Finding(name, Reason.MISSING_COLUMN, f"the commit's files have no column {name!r}") for name in lacking]
    if lacking:
        added = [c.name for c in commit if c.name not in known and c.name != partition_column]
        findings += [
            Finding(name, Reason.ADDED_COLUMN, f"new column {name!r} (a rename of {', '.join(lacking)}?)")
            for name in added
        ]
    return findings


def profile_findings(
    previous: TableProfile, commit: TableProfile, recent_rows: Sequence[int], *, judge_rows: bool = True
) -> list[Finding]:
    """How the commit's own rows differ from the table's previous version and its recent commits. ``judge_rows``
    False: a continuous writer's commit, whose size is its flush timing's (a stream catching up after a restart
    flushes thousands of rows, then tens), is not judged by its row count."""
    findings = _row_count(commit.rows, recent_rows[-RECENT_COMMITS:]) if judge_rows else []
    if commit.rows < MIN_ROWS:
        return findings
    for column in commit.columns:
        before = previous.column(column.name)
        if before is None or not before.count:
            continue
        if column.missing_rate > before.missing_rate + MISSING_MARGIN:
            findings.append(Finding(column.name, Reason.MISSING_RATE,
                                    f"missing in {column.missing_rate:.0%} of the rows, {before.missing_rate:.0%} "
                                    "before"))  # fmt: skip
        new = _new_categories(before.summary, column.summary) if column.kind == CATEGORICAL else []
        if new:
            findings.append(Finding(column.name, Reason.NEW_CATEGORIES, f"new values {', '.join(new[:5])}"))
    return findings


def _row_count(rows: int, recent: Sequence[int]) -> list[Finding]:
    if len(recent) < MIN_COMMITS:
        return []
    typical = statistics.median(recent)
    if typical <= 0 or typical / ROW_RATIO <= rows <= typical * ROW_RATIO:
        return []
    return [Finding("", Reason.ROW_COUNT, f"{rows} rows, the last {len(recent)} commits had {typical:g} (median)")]


def _new_categories(before: dict, after: dict) -> list[str]:
    known = before.get("top")
    if not known or not before.get("top_exact") or before.get("other", 0):  # only when every value was listed
        return []
    values = {str(item["value"]) for item in known}
    return sorted(str(item["value"]) for item in after.get("top") or [] if str(item["value"]) not in values)


@dataclass(frozen=True, slots=True)
class CheckRecord:
    """A finding as recorded: which commit (``version`` None while quarantined), and whether it is in quarantine."""

    id: int
    table: str
    version: int | None
    run_id: str
    field: str
    reason: str
    detail: str
    quarantined: bool
    released: bool
    at: datetime
