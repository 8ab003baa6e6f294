"""Apache DataSketches behind four small functions each: create, load, merge, dump (base64 in JSON).

Why these sketches (see README, "Why each dependency is here"): they are mergeable — the sketch of two
partitions is the merge of their sketches — so a new table version only computes statistics for its new files;
they have published error bounds; and the same C++ library answers identically on a laptop and in a Spark
executor. ``datasketches`` is imported inside the functions: importing the profile model costs nothing.
"""

from __future__ import annotations

import base64
from typing import Any

from strata_kernel.profiles.model import SketchParams


def _ds() -> Any:
    import datasketches

    return datasketches


def dump(sketch: Any) -> str:
    data = sketch.serialize_compact() if hasattr(sketch, "serialize_compact") else sketch.serialize()
    return base64.b64encode(data).decode("ascii")


def _raw(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


# ---- KLL: quantiles, CDF and histograms of numeric and temporal values -------------------------------------------
def new_kll(params: SketchParams) -> Any:
    return _ds().kll_doubles_sketch(params.kll_k)


def load_kll(text: str) -> Any:
    return _ds().kll_doubles_sketch.deserialize(_raw(text))


def merge_kll(texts: list[str], params: SketchParams) -> Any:
    merged = new_kll(params)
    for text in texts:
        merged.merge(load_kll(text))
    return merged


# ---- HLL: distinct counts ---------------------------------------------------------------------------------------
def new_hll(params: SketchParams) -> Any:
    ds = _ds()
    return ds.hll_sketch(params.hll_lg_k, ds.tgt_hll_type.HLL_8)


def merge_hll(texts: list[str], params: SketchParams) -> Any:
    """The union of serialised HLL sketches (see :func:`union_of` for why its estimate is order-free)."""
    ds = _ds()
    return union_of(*(ds.hll_sketch.deserialize(_raw(text)) for text in texts), lg_k=params.hll_lg_k)


def union_of(*sketches: Any, lg_k: int | None = None) -> Any:
    """A union whose estimate depends only on the set of values seen, never on their order or split.

    A sketch updated value by value (or a union of just one) estimates with HIP, which depends on the order of
    the updates; a union that merged registers uses the composite estimator, a function of the registers alone.
    Adding a lone sketch twice (a no-op for a set) forces the latter, so DuckDB and Spark report the same count.
    """
    ds = _ds()
    union = ds.hll_union(lg_k or sketches[0].lg_config_k)
    for sketch in sketches if len(sketches) != 1 else (sketches[0], sketches[0]):
        union.update(sketch)
    return union


def hll_result(union: Any) -> Any:
    ds = _ds()
    return union.get_result(ds.tgt_hll_type.HLL_8)


# ---- frequent items: top categories -----------------------------------------------------------------------------
def new_frequent(params: SketchParams) -> Any:
    return _ds().frequent_strings_sketch(params.frequent_lg_max)


def merge_frequent(texts: list[str], params: SketchParams) -> Any:
    ds = _ds()
    merged = new_frequent(params)
    for text in texts:
        merged.merge(ds.frequent_strings_sketch.deserialize(_raw(text)))
    return merged


def frequent_items(sketch: Any) -> list[tuple[str, int, int, int]]:
    """``(value, estimate, lower bound, upper bound)`` of the items that are surely frequent."""
    ds = _ds()
    return [tuple(item) for item in sketch.get_frequent_items(ds.frequent_items_error_type.NO_FALSE_POSITIVES)]


def kll_rank_error(params: SketchParams) -> float:
    """KLL's normalised rank error of one quantile (99% confidence), e.g. 0.0067 for k=400."""
    return float(_ds().kll_doubles_sketch.get_normalized_rank_error(params.kll_k, False))


def kll_ks_rejects(first: str, second: str, p_value: float = 0.05) -> bool:
    """DataSketches' Kolmogorov-Smirnov test on two KLL sketches: True when 'same distribution' is rejected."""
    return bool(_ds().ks_test(load_kll(first), load_kll(second), p_value))
