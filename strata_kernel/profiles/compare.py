"""Comparing two profiles: schema changes, row-count change and a distribution distance per column.

``reference`` is the baseline (an older table version, a model version's training profile), ``current`` what is
judged against it (a newer version, a window of live data). The statistics are scipy's definitions, evaluated
on the sketches, never on rows (``distances``: numpy, checked against scipy in the tests):

* numeric / temporal — ``wasserstein``: the Wasserstein distance between the two quantile functions (101
  quantiles each), divided by the reference's standard deviation (Evidently's normed Wasserstein; drift above
  0.1); ``jensen_shannon``: the Jensen-Shannon distance (base 2, 0..1) of the shares in 20 bins cut at the
  reference's quantiles; ``psi``: population stability index on the same bins;
  ``ks_rejects``: DataSketches' Kolmogorov-Smirnov test on the two KLL sketches at p = 0.05;
* categorical — ``jensen_shannon`` and ``psi`` over the union of both top-category lists plus "other";
  ``new_categories``: values of ``current`` that ``reference`` never had (only when its list is exact).

``drift`` is the headline number of a column (Wasserstein for numeric and temporal columns, Jensen-Shannon for
categorical ones; both read against 0.1). A removed and an added column of the same kind whose values are
alike (missing rates within 5 points, shares of distinct values within 10%, drift below 0.05) are reported as a
likely rename.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from strata_kernel.profiles import sketches
from strata_kernel.profiles.distances import (
    PSI_FLOOR,
    QUANTILE_GRID,
    jensen_shannon,
    normed_wasserstein,
    population_stability,
    quantile_wasserstein,
)
from strata_kernel.profiles.model import CATEGORICAL, NUMERIC, TEMPORAL, ColumnProfile, TableProfile

DRIFT_THRESHOLD = 0.1
RENAME_DRIFT = 0.05
_BINS = 20


@dataclass(frozen=True, slots=True)
class ColumnDiff:
    name: str
    kind: str
    type: str
    missing_rate: tuple[float, float]
    distinct: tuple[int | None, int | None]
    mean: tuple[float | None, float | None] = (None, None)
    drift: float | None = None
    drifted: bool = False
    distances: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProfileDiff:
    rows: tuple[int, int]
    added: list[dict[str, str]]
    removed: list[dict[str, str]]
    retyped: list[dict[str, str]]
    renamed: list[dict[str, Any]]
    columns: list[ColumnDiff]
    threshold: float = DRIFT_THRESHOLD

    @property
    def row_change(self) -> int:
        return self.rows[1] - self.rows[0]

    def to_dict(self) -> dict[str, Any]:
        before, after = self.rows
        return {
            "rows": {
                "from": before,
                "to": after,
                "change": after - before,
                "ratio": after / before if before else None,
            },
            "schema": {"added": self.added, "removed": self.removed, "retyped": self.retyped, "renamed": self.renamed},
            "threshold": self.threshold,
            "columns": [asdict(column) for column in self.columns],
        }


def compare_profiles(reference: TableProfile, current: TableProfile) -> ProfileDiff:
    old = {column.name: column for column in reference.columns}
    new = {column.name: column for column in current.columns}
    removed = [old[name] for name in old if name not in new]
    added = [new[name] for name in new if name not in old]
    retyped = [
        {"name": name, "from": old[name].type, "to": new[name].type}
        for name in old
        if name in new and old[name].type != new[name].type
    ]
    common = [column_diff(old[name], new[name]) for name in new if name in old]
    return ProfileDiff(
        rows=(reference.rows, current.rows),
        added=[{"name": column.name, "type": column.type} for column in added],
        removed=[{"name": column.name, "type": column.type} for column in removed],
        retyped=retyped,
        renamed=_likely_renames(removed, added),
        columns=common,
    )


def column_diff(reference: ColumnProfile, current: ColumnProfile) -> ColumnDiff:
    distances = distribution_distances(reference, current)
    drift = distances.get("wasserstein" if reference.kind in (NUMERIC, TEMPORAL) else "jensen_shannon")
    return ColumnDiff(
        name=current.name,
        kind=current.kind,
        type=current.type,
        missing_rate=(reference.missing_rate, current.missing_rate),
        distinct=(_distinct(reference), _distinct(current)),
        mean=(_mean(reference), _mean(current)),
        drift=drift,
        drifted=drift is not None and drift > DRIFT_THRESHOLD,
        distances=distances,
    )


def distribution_distances(reference: ColumnProfile, current: ColumnProfile) -> dict[str, Any]:
    """Every distance that applies to the two columns' kinds; empty when either side has no values."""
    if reference.kind != current.kind or not reference.present or not current.present:
        return {}
    if reference.kind in (NUMERIC, TEMPORAL) and "kll" in reference.sketches and "kll" in current.sketches:
        return _ordered_distances(reference, current)
    if reference.kind == CATEGORICAL and reference.summary.get("top") is not None:
        return _categorical_distances(reference, current)
    return {}


def _ordered_distances(reference: ColumnProfile, current: ColumnProfile) -> dict[str, Any]:
    ref, cur = sketches.load_kll(reference.sketches["kll"]), sketches.load_kll(current.sketches["kll"])
    return {
        **ordered_distances(reference, ref, cur),
        "ks_rejects": sketches.kll_ks_rejects(reference.sketches["kll"], current.sketches["kll"]),
    }


def ordered_distances(reference: ColumnProfile, ref_kll: Any, cur_kll: Any) -> dict[str, Any]:
    """Wasserstein (normed and raw), Jensen-Shannon and PSI of two live KLL sketches; ``reference`` gives the
    scale (its standard deviation). The monitors call this with the sketches they keep in memory."""
    grid = list(QUANTILE_GRID)
    ref_q, cur_q = ref_kll.get_quantiles(grid), cur_kll.get_quantiles(grid)
    scale = _scale(reference, ref_q)
    edges = sorted(set(ref_kll.get_quantiles([i / _BINS for i in range(1, _BINS)])))
    return {
        "wasserstein": normed_wasserstein(ref_q, cur_q, scale),
        "wasserstein_raw": quantile_wasserstein(ref_q, cur_q),
        **_share_distances(ref_kll.get_pmf(edges), cur_kll.get_pmf(edges)),
    }


def _scale(reference: ColumnProfile, quantiles: list[float]) -> float:
    """The reference's standard deviation (numeric) or the spread of its quantiles (temporal, or constant)."""
    if reference.moments is not None and reference.moments.std:
        return reference.moments.std
    return float(quantiles[-1] - quantiles[0]) / 4 or 0.0


def _categorical_distances(reference: ColumnProfile, current: ColumnProfile) -> dict[str, Any]:
    ref_counts = _category_counts(reference)
    cur_counts = _category_counts(current)
    values = sorted(set(ref_counts) | set(cur_counts))
    ref_share = [ref_counts.get(value, 0) / max(reference.present, 1) for value in values]
    cur_share = [cur_counts.get(value, 0) / max(current.present, 1) for value in values]
    new = (
        [v for v in cur_counts if v not in ref_counts and v is not _OTHER] if reference.summary.get("top_exact") else []
    )
    return {**_share_distances(ref_share, cur_share), "new_categories": sorted(new)[:20]}


_OTHER = "\x00other"


def _category_counts(column: ColumnProfile) -> dict[str, int]:
    counts = {item["value"]: int(item["count"]) for item in column.summary.get("top", [])}
    other = int(column.summary.get("other", 0))
    return {**counts, _OTHER: other} if other else counts


def _share_distances(reference: list[float], current: list[float]) -> dict[str, float]:
    if sum(reference) <= 0 or sum(current) <= 0:
        return {}
    psi = population_stability(reference, current, PSI_FLOOR)
    return {"jensen_shannon": jensen_shannon(reference, current), "psi": psi}


def _distinct(column: ColumnProfile) -> int | None:
    distinct = column.summary.get("distinct")
    return None if not distinct else int(distinct["estimate"])


def _mean(column: ColumnProfile) -> float | None:
    return column.moments.mean if column.moments is not None and column.moments.n else None


def _likely_renames(removed: list[ColumnProfile], added: list[ColumnProfile]) -> list[dict[str, Any]]:
    renames = []
    candidates = list(added)
    for old in removed:
        drifts = [(column_diff(old, new).drift, new) for new in candidates if _alike(old, new)]
        scored = [(drift, new) for drift, new in drifts if drift is not None and drift < RENAME_DRIFT]
        if scored:
            drift, new = min(scored, key=lambda pair: pair[0])
            candidates.remove(new)
            renames.append({"from": old.name, "to": new.name, "type": new.type, "drift": drift})
    return renames


def _alike(old: ColumnProfile, new: ColumnProfile) -> bool:
    """Same kind, about the same missing rate and share of distinct values (the rows may have grown)."""
    if old.kind != new.kind or not old.present or not new.present:
        return False
    if abs(old.missing_rate - new.missing_rate) > 0.05:
        return False
    before, after = _distinct(old), _distinct(new)
    if before is None or after is None:
        return True
    return abs(before / old.present - after / new.present) <= 0.1 * max(before / old.present, after / new.present)
