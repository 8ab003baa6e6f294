"""One-sided tests asking "is the candidate significantly worse than the stable version, beyond a tolerance?".

Every test returns a p-value; a rule fails only when p < alpha (significance), never on a raw difference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import stats

#: below this expected count in a cell the normal approximation is poor: use Fisher's exact test
_MIN_EXPECTED_CELL = 5.0


def error_rate_p_value(errors_s: int, n_s: int, errors_c: int, n_c: int, margin: float) -> tuple[float, str]:
    """H0: p_c - p_s <= margin. Two-proportion z with the margin; Fisher exact (margin 0) for small cells."""
    p_s, p_c = errors_s / n_s, errors_c / n_c
    if p_c - p_s <= margin:
        return 1.0, "two_proportion_z"
    pooled = (errors_s + errors_c) / (n_s + n_c)
    smallest = min(n_s, n_c) * min(pooled, 1 - pooled)
    if smallest < _MIN_EXPECTED_CELL:
        table = [[errors_c, n_c - errors_c], [errors_s, n_s - errors_s]]
        return float(stats.fisher_exact(table, alternative="greater").pvalue), "fisher_exact"
    return _z_greater(p_c - p_s - margin, p_s, n_s, p_c, n_c), "two_proportion_z"


def helpful_rate_p_value(helpful_s: int, n_s: int, helpful_c: int, n_c: int, tolerance: float) -> float:
    """H0: p_s - p_c <= tolerance (the candidate is at most ``tolerance`` less helpful)."""
    p_s, p_c = helpful_s / n_s, helpful_c / n_c
    return _z_greater(p_s - p_c - tolerance, p_s, n_s, p_c, n_c)


def _z_greater(excess: float, p_s: float, n_s: int, p_c: float, n_c: int) -> float:
    se = math.sqrt(p_s * (1 - p_s) / n_s + p_c * (1 - p_c) / n_c)
    if se == 0.0:
        return 0.0 if excess > 0 else 1.0
    return float(stats.norm.sf(excess / se))


def abs_error_p_value(stable: Sequence[float], candidate: Sequence[float], tolerance: float, test: str) -> float:
    """H0: candidate absolute errors are not larger than stable's scaled by (1 + tolerance)."""
    scaled = [value * (1.0 + tolerance) for value in stable]
    if test == "welch":
        result = stats.ttest_ind(candidate, scaled, equal_var=False, alternative="greater")
    else:
        result = stats.mannwhitneyu(candidate, scaled, alternative="greater")
    p_value = float(result.pvalue)
    return 1.0 if math.isnan(p_value) else p_value  # identical constant samples: no evidence of anything


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) — what an operator computes by hand from the log."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return float(ordered[rank - 1])
