"""The readable summary of a column, derived from its state and live sketches when a profile is finished.

Histograms use equal-width bins between the exact minimum and maximum (one bin per value for small integer
ranges); their counts come from the KLL sketch's probability mass, so each bin's share is within the sketch's
rank error (``params``) of the truth, and the counts add up to the non-missing values exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from strata_kernel.profiles import sketches
from strata_kernel.profiles.model import (
    CATEGORICAL,
    NUMERIC,
    QUANTILES,
    TEMPORAL,
    ColumnProfile,
    SketchParams,
)

HISTOGRAM_BINS = 20
#: an integer column spanning fewer values than this gets one bin per value
DISCRETE_RANGE = 40
TOP_CATEGORIES = 20
#: the exact, mergeable fields of a ColumnProfile (everything but sketches and summary)
STATE_FIELDS = ("name", "type", "kind", "count", "nulls", "nan", "minimum", "maximum", "moments")
_EPOCH = datetime(1970, 1, 1)


def finish_column(state: dict[str, Any], live: dict[str, Any], params: SketchParams) -> ColumnProfile:
    """A :class:`ColumnProfile` from exact ``state`` fields and live sketch objects (serialised here)."""
    column = ColumnProfile(**state, sketches={name: sketches.dump(sketch) for name, sketch in live.items()})
    summary: dict[str, Any] = {"missing_rate": column.missing_rate, "present": column.present}
    if "hll" in live:
        summary["distinct"] = _distinct(live, column.present)
    if column.kind in (NUMERIC, TEMPORAL) and column.present and "kll" in live:
        summary.update(_ordered_summary(column, live["kll"]))
    if column.kind == CATEGORICAL and "frequent" in live:
        summary.update(_categories(live["frequent"], column.present))
        if summary["top_exact"]:  # every value is in the map: the distinct count is exact too
            exact = live["frequent"].num_active_items
            summary["distinct"] = {"estimate": exact, "lower": exact, "upper": exact, "exact": True}
    return ColumnProfile(**{**state, "sketches": column.sketches, "summary": summary})


def _distinct(live: dict[str, Any], present: int) -> dict[str, Any]:
    """HLL's estimate and bounds, never above the values there are (an estimate can overshoot a unique key's)."""
    union = sketches.union_of(live["hll"])  # order-free estimate: the same number from every engine
    return {
        "estimate": min(round(union.get_estimate()), present),
        "lower": min(round(union.get_lower_bound(2)), present),
        "upper": min(round(union.get_upper_bound(2)), present),
        "exact": False,
    }


def _ordered_summary(column: ColumnProfile, kll: Any) -> dict[str, Any]:
    integer = column.kind == NUMERIC and column.type.startswith(("int", "uint"))
    edges = histogram_edges(float(column.minimum), float(column.maximum), integer=integer)  # type: ignore[arg-type]
    counts = histogram_counts(kll, edges, column.present)
    quantiles = [float(value) for value in kll.get_quantiles(list(QUANTILES))]
    summary: dict[str, Any] = {"min": column.minimum, "max": column.maximum}
    if column.kind == NUMERIC and column.moments is not None:
        summary.update(mean=column.moments.mean, std=column.moments.std)
    if column.kind == TEMPORAL:  # people read times, not microseconds
        aware = "tz=" in column.type
        summary.update(
            min=iso_time(column.minimum, aware), max=iso_time(column.maximum, aware),
            quantiles={quantile_key(q): iso_time(v, aware) for q, v in zip(QUANTILES, quantiles, strict=True)},
            histogram={"edges": [iso_time(edge, aware) for edge in edges], "counts": counts},
        )  # fmt: skip
        return summary
    summary["quantiles"] = {quantile_key(q): v for q, v in zip(QUANTILES, quantiles, strict=True)}
    summary["histogram"] = {"edges": edges, "counts": counts}
    return summary


def quantile_key(q: float) -> str:
    return f"p{round(q * 100):02d}"


def histogram_edges(low: float, high: float, *, integer: bool, bins: int = HISTOGRAM_BINS) -> list[float]:
    if high <= low:
        return [low, high]
    if integer and high - low < DISCRETE_RANGE:
        return [low - 0.5 + i for i in range(int(high - low) + 2)]
    width = (high - low) / bins
    return [low + i * width for i in range(bins)] + [high]


def histogram_counts(kll: Any, edges: list[float], total: int) -> list[int]:
    """Counts per bin from the sketch's probability mass, rounded so that they add up to ``total``."""
    if len(edges) <= 2:
        return [total]
    shares = kll.get_pmf(edges[1:-1])
    return largest_remainder([share * total for share in shares], total)


def largest_remainder(values: list[float], total: int) -> list[int]:
    floors = [int(value) for value in values]
    order = sorted(range(len(values)), key=lambda i: values[i] - floors[i], reverse=True)
    for i in order[: max(total - sum(floors), 0)]:
        floors[i] += 1
    return floors


def _categories(frequent: Any, present: int) -> dict[str, Any]:
    items = sorted(sketches.frequent_items(frequent), key=lambda item: (-item[1], item[0]))
    exact = bool(items) and all(lower == upper for _, _, lower, upper in items)
    top = [{"value": value, "count": int(estimate)} for value, estimate, _, _ in items[:TOP_CATEGORIES]]
    shown = sum(int(estimate) for _, estimate, _, _ in items[:TOP_CATEGORIES])
    return {"top": top, "top_exact": exact, "other": max(present - shown, 0)}


def iso_time(micros: float | None, aware: bool) -> str | None:
    """Microseconds since the epoch as ISO-8601; a zone-less column stays zone-less (wall-clock time)."""
    if micros is None:
        return None
    moment = _EPOCH + timedelta(microseconds=round(micros))
    return moment.replace(tzinfo=UTC).isoformat() if aware else moment.isoformat()
