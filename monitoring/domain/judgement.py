"""How a window of live data is judged against a model version's reference profile (docs/monitoring.md).

The statistics are the profile module's (``strata_kernel.profiles.compare.column_diff``: scipy's definitions on
the sketches): per numeric feature the normed Wasserstein distance and DataSketches' Kolmogorov-Smirnov test of the
two quantile sketches, per categorical feature the Jensen-Shannon distance of the category shares. A clean stream
must not page, so drift is *detected* only when

* the window holds at least ``min_samples`` rows and the reference of the window's hours at least
  ``min_reference_rows`` (fewer: the score is exported, never judged);
* the distance exceeds ``drift_threshold`` (0.1, Evidently's default for both distances), and, for a numeric
  feature, the KS test also rejects "same distribution" at p = 0.05 (the sketch-aware test widens its critical
  value by both sketches' rank errors, so sampling noise alone does not reject it).

Missing values are judged against the reference's own missing rate (a feature missing in 8% of the training rows
is not news when it is missing in 8% of the requests): high when the window's rate exceeds it by
``missing_margin``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from monitoring.domain.aspects import DRIFT as DRIFT
from monitoring.domain.aspects import MISSING as MISSING
from strata_kernel.profiles.compare import column_diff
from strata_kernel.profiles.model import CATEGORICAL, NUMERIC, ColumnProfile, SketchParams, TableProfile


@dataclass(frozen=True, slots=True)
class Policy:
    min_samples: int = 500
    min_reference_rows: int = 1000
    drift_threshold: float = 0.1
    missing_margin: float = 0.1
    #: a per-node window is judged only with this many rows (a node with little traffic is not judged alone)
    min_node_samples: int = 500


@dataclass(frozen=True, slots=True)
class Drift:
    score: float | None  # None: no distance applies (no values on a side, kinds differ)
    detected: bool


@dataclass(frozen=True, slots=True)
class ColumnReading:
    column: str
    missing_rate: float
    missing_high: bool
    out_of_range_rate: float
    drift: Drift


@dataclass(frozen=True, slots=True)
class WindowReading:
    window: str
    samples: int
    judged: bool  # the window and its reference held enough rows to judge
    features: tuple[ColumnReading, ...]
    prediction: ColumnReading | None


def judge_column(
    reference: ColumnProfile | None,
    current: ColumnProfile | None,
    *,
    samples: int,
    out_of_range: int,
    judged: bool,
    policy: Policy,
    with_drift: bool = True,
) -> ColumnReading | None:
    """One column of a window against the same column of its reference; None when the window lacks it."""
    if current is None:
        return None
    missing_rate = current.missing_rate
    reference_missing = reference.missing_rate if reference is not None else 0.0
    drift = Drift(None, False)
    if with_drift and reference is not None and current.present:
        drift = column_drift(reference, current, judged=judged, policy=policy)
    return ColumnReading(
        column=current.name,
        missing_rate=missing_rate,
        missing_high=judged and missing_rate > reference_missing + policy.missing_margin,
        out_of_range_rate=out_of_range / samples if samples else 0.0,
        drift=drift,
    )


def column_drift(reference: ColumnProfile, current: ColumnProfile, *, judged: bool, policy: Policy) -> Drift:
    diff = column_diff(reference, current)
    if diff.drift is None:
        return Drift(None, False)
    over = diff.drift > policy.drift_threshold
    if reference.kind == NUMERIC:
        over = over and bool(diff.distances.get("ks_rejects"))
    return Drift(float(diff.drift), judged and over)


def judged(samples: int, reference: TableProfile | None, policy: Policy, *, min_samples: int | None = None) -> bool:
    needed = policy.min_samples if min_samples is None else min_samples
    return reference is not None and samples >= needed and reference.rows >= policy.min_reference_rows


def streamed_kinds(reference: TableProfile, columns: Iterable[str]) -> dict[str, str]:
    """The kind each column is profiled as in a live window: the reference's, when it is numeric or categorical."""
    kinds = {}
    for name in columns:
        column = reference.column(name)
        if column is not None and column.kind in (NUMERIC, CATEGORICAL):
            kinds[name] = column.kind
    return kinds


def training_range(reference: TableProfile, columns: Iterable[str]) -> dict[str, tuple[float, float]]:
    """Per numeric column, the [min, max] of the training rows (a live value outside it is out of range)."""
    ranges = {}
    for name in columns:
        column = reference.column(name)
        if column is not None and column.kind == NUMERIC and column.minimum is not None and column.maximum is not None:
            ranges[name] = (float(column.minimum), float(column.maximum))
    return ranges


def outside(ranges: dict[str, tuple[float, float]], row: dict[str, object]) -> list[str]:
    found = []
    for name, (low, high) in ranges.items():
        value = row.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and not low <= value <= high:
            found.append(name)
    return found


@dataclass(frozen=True, slots=True)
class GroupInfo:
    name: str
    table: str  # the offline table, e.g. features.restaurant_stats
    entity: str  # its key column, e.g. restaurant_id
    time: str  # its nominal time column, e.g. feature_time
    time_zone: str | None = None  # the wall clock of that column's zone-less times (None: UTC, the lake's default)


@dataclass(frozen=True, slots=True)
class SkewReading:
    pairs: int  # served values with an offline value to compare
    mismatch_rate: float  # share of pairs whose values differ (beyond float noise)
    drift: Drift


#: skew: minimum pairs before a feature is judged; served and offline values of one row are equal when both come
#: from the same computation, so any systematic difference is skew (no sampling noise to allow for)
MIN_SKEW_PAIRS = 100


def judge_skew(
    online: Sequence[float | str], offline: Sequence[float | str], policy: Policy, kind: str = NUMERIC
) -> SkewReading:
    """Online versus offline values of one feature (same entities, same times): the distance of the two samples
    (the profile module's, on streamed sketches: normed Wasserstein for a numeric feature, Jensen-Shannon of the
    category shares for a categorical one) and the share of pairs that differ."""
    from strata_kernel.profiles.stream import StreamingColumn

    sides = []
    for values in (offline, online):
        column = StreamingColumn("value", kind, SketchParams(kll_k=200))
        for value in values:
            column.add(value)
        sides.append(column.finish())
    reference, current = sides
    differ = sum(1 for a, b in zip(online, offline, strict=True) if _differ(a, b))
    pairs = len(online)
    drift = Drift(None, False)
    if pairs and reference.present and current.present:
        diff = column_diff(reference, current)
        score = float(diff.drift) if diff.drift is not None else None
        drift = Drift(score, pairs >= MIN_SKEW_PAIRS and score is not None and score > policy.drift_threshold)
    return SkewReading(pairs, differ / pairs if pairs else 0.0, drift)


def _differ(online: float | str, offline: float | str) -> bool:
    if isinstance(online, str) or isinstance(offline, str):
        return online != offline
    return abs(online - offline) > 1e-6 * max(1.0, abs(offline))
