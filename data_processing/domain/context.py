"""The ONE code path of a model's request-context features, for training (1M rows) and serving (1 row).

A declaration's context (``context: {name, fields}``) gives every model two kinds of context features:
the declared fields as the request (or the spine row) carries them — numbers as float64, text as text
(categorical, never cast to numbers) — and ``hour_of_day`` / ``day_of_week`` of the nominal time, read on the
wall clock of the spine's zone. Every function takes arrays and returns arrays of the same length, so the
training job calls them on whole columns and the serving path on arrays of length one.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from strata_kernel.contracts.model_spec import TIME_FEATURES, ContextField

_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)

__all__ = ["TIME_FEATURES", "context_features", "day_of_week", "hour_of_day"]


def hour_of_day(local: npt.NDArray[np.datetime64]) -> npt.NDArray[np.float64]:
    """0..23 on the local wall clock; NaT -> NaN."""
    minutes = local.astype("datetime64[m]")
    since_midnight = minutes - minutes.astype("datetime64[D]")
    hours = (since_midnight.astype(np.int64) // 60).astype(np.float64)
    return np.where(np.isnat(local), np.nan, hours)


def day_of_week(local: npt.NDArray[np.datetime64]) -> npt.NDArray[np.float64]:
    """0 = Monday .. 6 = Sunday of the local date; NaT -> NaN."""
    days = local.astype("datetime64[D]").astype(np.int64)
    return np.where(np.isnat(local), np.nan, ((days + _EPOCH_WEEKDAY) % 7).astype(np.float64))


def context_features(
    context: str,
    fields: tuple[ContextField, ...],
    local_times: npt.NDArray[np.datetime64],
    values: Mapping[str, npt.NDArray[np.generic]],
) -> dict[str, npt.NDArray[np.generic]]:
    """Every ``<context>__<name>`` column: the time features, then the declared fields (``values`` by name)."""
    columns: dict[str, npt.NDArray[np.generic]] = {
        f"{context}__hour_of_day": hour_of_day(local_times),
        f"{context}__day_of_week": day_of_week(local_times),
    }
    for field in fields:
        raw = np.asarray(values[field.name])
        columns[f"{context}__{field.name}"] = _text(raw) if field.categorical else _number(raw)
    return columns


def _number(raw: npt.NDArray[np.generic]) -> npt.NDArray[np.float64]:
    if raw.dtype.kind in "fiub":
        return raw.astype(np.float64)
    return np.array([np.nan if v is None else float(v) for v in raw.tolist()], dtype=np.float64)


def _text(raw: npt.NDArray[np.generic]) -> npt.NDArray[np.object_]:
    """Categories as text (bools as "true"/"false", as JSON writes them); missing stays None."""
    return np.array([_category(v) for v in raw.tolist()], dtype=object)


def _category(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
