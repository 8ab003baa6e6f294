"""The ONE code path of the ETD order-context features, for training (1M rows) and serving (1 row).

Every function takes numpy arrays and returns a numpy array of the same length, so the batch job
calls them on whole columns and the runtime service on arrays of length one.
Timestamps are naive local wall-clock times (see docs/contracts.md) as ``datetime64``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: the order-context features (``@order:<name>``) every order has at request time; which of them a
#: model uses is its feature set's business (``data_processing/feature_sets/<model>.yaml``)
ORDER_FEATURES = ("hour_of_day", "day_of_week", "n_items", "subtotal")

_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


def hour_of_day(placed_at: npt.NDArray[np.datetime64]) -> npt.NDArray[np.float64]:
    """0..23, the local hour the order was placed."""
    minutes = placed_at.astype("datetime64[m]")
    since_midnight = minutes - minutes.astype("datetime64[D]")
    return (since_midnight.astype(np.int64) // 60).astype(np.float64)


def day_of_week(placed_at: npt.NDArray[np.datetime64]) -> npt.NDArray[np.float64]:
    """0 = Monday .. 6 = Sunday."""
    days = placed_at.astype("datetime64[D]").astype(np.int64)
    return ((days + _EPOCH_WEEKDAY) % 7).astype(np.float64)


def order_context_features(
    placed_at: npt.NDArray[np.datetime64],
    n_items: npt.NDArray[np.number],
    subtotal: npt.NDArray[np.number],
) -> dict[str, npt.NDArray[np.float64]]:
    """The ``order__*`` feature columns of a batch of orders (float64, the model's input type)."""
    return {
        "order__hour_of_day": hour_of_day(placed_at),
        "order__day_of_week": day_of_week(placed_at),
        "order__n_items": np.asarray(n_items, dtype=np.float64),
        "order__subtotal": np.asarray(subtotal, dtype=np.float64),
    }
