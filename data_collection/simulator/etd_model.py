"""The generative model of the ETD label (estimated time of delivery). Kept in one place so it can be read.

For an order at restaurant r in city c of country k, placed at local hour h on day d with n items::

    prep_minutes     = base_prep[r] * drift[r](d) * (1 + K_ITEMS * n) * kitchen_rush(h) * LogNormal(0, 0.12)
    travel_minutes   = base_travel[c] * country_effect[k] * traffic_rush(h, sensitivity[c]) + Normal(0, 2.5)
    delivery_minutes = prep_minutes + travel_minutes + Normal(0, 1.0)

clipped to sane ranges (prep 2-90 min, travel >= 2 min, delivery 8-150 min and >= prep + 2). Where the
effects come from (see ``world.py``):

- ``base_prep[r]`` = cuisine median (bakery 6 min ... sushi 18 min) * LogNormal(0, 0.35): a real
  *restaurant effect*, so a restaurant's historical mean is a decent naive baseline.
- ``drift[r](d)`` = 1 + slope[r] * (d - days/2), slope ~ Normal(0, 0.006)/day: kitchens slowly get faster or
  slower, so *recent* aggregates (7-day windows) carry information a static mean does not.
- ``base_travel[c]`` = 16 min * LogNormal(0, 0.3): the *city effect* (size, congestion);
  ``sensitivity[c]`` ~ Uniform(0.5, 1.5) scales how much rush hours hurt that city's traffic.
- ``country_effect[k]`` = LogNormal(0, 0.15): the *country effect* (roads, courier fleet).
- ``kitchen_rush`` / ``traffic_rush`` peak at lunch (12:30) and dinner (19:30): rush hours are slower.

Demand (when orders are placed) has lunch and dinner peaks and a weekly cycle (Friday-Sunday busiest).
The full description, with the reasons for each choice, is in ``data_collection/ETD_MODEL.md``.
"""

from __future__ import annotations

import numpy as np

K_ITEMS = 0.08  # each extra item adds 8% kitchen time
PREP_NOISE_SIGMA = 0.12
TRAVEL_NOISE_MINUTES = 2.5
HANDOVER_NOISE_MINUTES = 1.0
DRIFT_SLOPE_SIGMA = 0.006  # per day

LUNCH_PEAK_HOUR = 12.5
DINNER_PEAK_HOUR = 19.5

#: relative demand by hour of day (local time): lunch and dinner peaks, almost nothing at night
HOURLY_DEMAND = np.array(
    [0.2, 0.1, 0.05, 0.03, 0.03, 0.05, 0.2, 0.5, 0.8, 0.9, 1.2, 2.5,
     4.5, 4.0, 2.0, 1.2, 1.0, 1.5, 3.5, 5.0, 4.5, 2.5, 1.2, 0.5],
)  # fmt: skip
#: relative demand by day of week, Monday first
WEEKDAY_DEMAND = np.array([0.85, 0.85, 0.9, 0.95, 1.15, 1.2, 1.1])


def _peaks(hour: np.ndarray, lunch_height: float | np.ndarray, dinner_height: float | np.ndarray) -> np.ndarray:
    lunch = lunch_height * np.exp(-((hour - LUNCH_PEAK_HOUR) ** 2) / 2.0)
    dinner = dinner_height * np.exp(-((hour - DINNER_PEAK_HOUR) ** 2) / 2.0)
    return 1.0 + lunch + dinner


def kitchen_rush(hour: np.ndarray) -> np.ndarray:
    """Kitchen slowdown by fractional local hour: up to x1.25 at lunch, x1.35 at dinner."""
    return _peaks(hour, 0.25, 0.35)


def traffic_rush(hour: np.ndarray, sensitivity: np.ndarray) -> np.ndarray:
    """Travel slowdown by fractional local hour, scaled by each city's congestion sensitivity."""
    return _peaks(hour, 0.2 * sensitivity, 0.3 * sensitivity)


def prep_minutes(
    rng: np.random.Generator, base_prep: np.ndarray, drift: np.ndarray, n_items: np.ndarray, hour: np.ndarray
) -> np.ndarray:
    noise = rng.lognormal(0.0, PREP_NOISE_SIGMA, size=len(n_items))
    prep = base_prep * drift * (1.0 + K_ITEMS * n_items) * kitchen_rush(hour) * noise
    return np.clip(prep, 2.0, 90.0)


def travel_minutes(
    rng: np.random.Generator,
    base_travel: np.ndarray,
    country_effect: np.ndarray,
    sensitivity: np.ndarray,
    hour: np.ndarray,
) -> np.ndarray:
    noise = rng.normal(0.0, TRAVEL_NOISE_MINUTES, size=len(hour))
    return np.maximum(base_travel * country_effect * traffic_rush(hour, sensitivity) + noise, 2.0)


def delivery_minutes(rng: np.random.Generator, prep: np.ndarray, travel: np.ndarray) -> np.ndarray:
    noise = rng.normal(0.0, HANDOVER_NOISE_MINUTES, size=len(prep))
    return np.clip(prep + travel + noise, np.maximum(prep + 2.0, 8.0), 150.0)


def drift_factor(slope: np.ndarray, day: np.ndarray, days: int) -> np.ndarray:
    """Slow per-restaurant change of kitchen speed over the simulated period (never below x0.7)."""
    return np.maximum(1.0 + slope * (day - days / 2.0), 0.7)
