"""What monitors use from the profile module: distances (scipy's definitions), streamed windows, references."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.special import rel_entr
from scipy.stats import wasserstein_distance

from strata_kernel.profiles import ProfileFormatError, compare_profiles, profile_arrow
from strata_kernel.profiles.distances import jensen_shannon, population_stability, quantile_wasserstein
from strata_kernel.profiles.reference import ReferenceProfile, build_reference
from strata_kernel.profiles.sketches import kll_rank_error
from strata_kernel.profiles.stream import StreamingProfile, merged


@pytest.mark.parametrize("seed", range(5))
def test_distances_equal_scipys_definitions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    grid_a, grid_b = np.sort(rng.normal(0, 1, 101)), np.sort(rng.gamma(2, 1.5, 101))
    # the functions take what the monitors pass, lists of floats; scipy gets the same values as arrays
    assert quantile_wasserstein(grid_a.tolist(), grid_b.tolist()) == pytest.approx(
        wasserstein_distance(grid_a, grid_b), rel=1e-12
    )
    p, q = rng.random(20), rng.random(20)
    q[3] = 0.0  # an empty bin on one side
    assert jensen_shannon(p.tolist(), q.tolist()) == pytest.approx(float(jensenshannon(p, q, base=2)), rel=1e-9)
    shares_p, shares_q = p / p.sum(), q / q.sum()
    floored_p, floored_q = np.maximum(shares_p, 1e-4), np.maximum(shares_q, 1e-4)
    expected = rel_entr(floored_q, floored_p).sum() + rel_entr(floored_p, floored_q).sum()
    assert population_stability(shares_p.tolist(), shares_q.tolist()) == pytest.approx(float(expected), rel=1e-9)


def _values(n: int, seed: int = 3) -> tuple[list[float | None], list[str | None]]:
    rng = np.random.default_rng(seed)
    numbers: list[float | None] = [float(v) for v in rng.normal(30, 6, n)]
    labels: list[str | None] = [str(v) for v in rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1])]
    for i in range(0, n, 17):
        numbers[i] = None
    for i in range(5, n, 23):
        labels[i] = None
    numbers[7] = float("nan")
    return numbers, labels


def test_a_streamed_column_equals_the_batch_builders_on_the_same_values() -> None:
    numbers, labels = _values(5000)
    streamed = StreamingProfile({"minutes": "numeric", "article": "categorical"})
    for number, label in zip(numbers, labels, strict=True):
        streamed.add({"minutes": number, "article": label})
    batch = profile_arrow(pa.table({"minutes": pa.array(numbers, pa.float64()), "article": pa.array(labels)}))
    for name in ("minutes", "article"):
        mine, theirs = streamed.finish().column(name), batch.column(name)
        assert mine is not None and theirs is not None
        assert (mine.count, mine.nulls, mine.nan, mine.kind) == (theirs.count, theirs.nulls, theirs.nan, theirs.kind)
        assert (mine.minimum, mine.maximum) == (theirs.minimum, theirs.maximum)
    minutes, batch_minutes = streamed.finish().column("minutes"), batch.column("minutes")
    assert minutes is not None and batch_minutes is not None and minutes.moments is not None
    assert minutes.moments.mean == pytest.approx(batch_minutes.summary["mean"], rel=1e-12)
    assert minutes.summary["std"] == pytest.approx(batch_minutes.summary["std"], rel=1e-9)
    tolerance = kll_rank_error(streamed.params) * 4  # two randomised sketches, each within its rank error
    present = np.array([v for v in numbers if v is not None and v == v])
    for key, value in minutes.summary["quantiles"].items():
        rank = (present < value).mean()
        assert abs(rank - int(key[1:]) / 100) <= tolerance, key
    article = streamed.finish().column("article")
    assert article is not None and article.summary["top"] == batch.column("article").summary["top"]  # type: ignore[union-attr]


def test_windows_merge_into_the_profile_of_all_their_rows_and_wrong_kinds_are_counted() -> None:
    numbers, _ = _values(3000)
    first, second = StreamingProfile({"x": "numeric"}), StreamingProfile({"x": "numeric"})
    for i, value in enumerate(numbers):
        (first if i % 2 else second).add({"x": value})
    second.add({"x": "12.5"})  # a re-typed value: missing, and counted as the wrong kind
    second.add({})  # the field absent: missing
    whole = merged([first, second]).finish().column("x")
    assert whole is not None
    assert whole.count == 3002 and whole.nulls == sum(v is None for v in numbers) + 2
    assert merged([first, second]).columns["x"].wrong_kind == 1
    assert first.rows == 1500  # merging leaves its inputs as they were


@pytest.fixture(scope="module")
def training() -> pa.Table:
    """Deliveries that take longer at the dinner peak, served by two nodes; a calendar column (day of week)."""
    rng = np.random.default_rng(11)
    n = 30_000
    hour = rng.choice(24, n, p=np.r_[np.full(8, 0.005), np.full(16, 0.96 / 16)])
    rush = np.where((hour >= 18) & (hour <= 21), 12.0, 0.0)
    items = rng.poisson(1.6, n) + 1.0
    prediction = 25 + rush + 2 * items + rng.normal(0, 3, n)
    return pa.table({
        "order__hour_of_day": hour.astype(np.float64), "order__day_of_week": rng.integers(0, 7, n).astype(np.float64),
        "order__n_items": items, "prediction": prediction, "label": prediction + rng.normal(0, 4, n),
        "node": np.where(rng.random(n) < 0.7, "global", "country_code=NL"),
    })  # fmt: skip


@pytest.fixture(scope="module")
def reference(training: pa.Table) -> ReferenceProfile:
    built = build_reference(
        training, features=["order__hour_of_day", "order__day_of_week", "order__n_items"], prediction="prediction",
        label="label", slice_by="order__hour_of_day", node_by="node", calendar_features=["order__day_of_week"],
        meta={"model": "etd"},
    )  # fmt: skip
    return ReferenceProfile.from_dict(json.loads(json.dumps(built.to_dict())))  # what a monitor reads back


def test_the_reference_round_trips_as_plain_json_and_refuses_other_documents(reference: ReferenceProfile) -> None:
    assert reference.overall.rows == 30_000 and reference.meta == {"model": "etd"}
    assert reference.judged_features() == ("order__hour_of_day", "order__n_items")
    assert reference.nodes() == ["country_code=NL", "global"]
    with pytest.raises(ProfileFormatError):
        ReferenceProfile.from_dict({"format": "strata.profile"})


def _window(training: pa.Table, hour: int, shift: float = 0.0) -> StreamingProfile:
    rows = training.filter(pa.compute.equal(training.column("order__hour_of_day"), float(hour))).to_pylist()
    window = StreamingProfile()
    for row in rows[:1500]:
        window.add({"prediction": row["prediction"] + shift, "order__hour_of_day": row["order__hour_of_day"]})
    return window


def test_a_dinner_window_matches_the_dinner_slice_not_the_whole_day(
    training: pa.Table, reference: ReferenceProfile
) -> None:
    window = _window(training, 19).finish()
    dinner = reference.for_window([19], min_rows=500)
    assert dinner is not None, "the reference has no 19:00 slice of 500 rows"
    against_day = compare_profiles(reference.overall, window).columns
    against_hour = compare_profiles(dinner, window).columns
    drift_day = {c.name: c.drift for c in against_day if c.drift is not None}
    drift_hour = {c.name: c.drift for c in against_hour if c.drift is not None}
    assert drift_day["prediction"] > 0.3  # the whole day would call every evening "drift"
    assert drift_hour["prediction"] < 0.1 and drift_hour["order__hour_of_day"] == 0.0
    shifted = compare_profiles(dinner, _window(training, 19, shift=5).finish())
    assert {c.name: c.drift for c in shifted.columns if c.drift is not None}["prediction"] > 0.3


def test_thin_slices_widen_to_neighbouring_hours_and_a_node_without_enough_rows_is_not_judged(
    reference: ReferenceProfile,
) -> None:
    night = reference.for_window([3], min_rows=300)
    assert night is not None and night.rows >= 300 and len(night.meta["hours"]) > 1
    assert reference.for_window([19], node="country_code=NL", min_rows=200) is not None
    assert reference.for_window([19], node="country_code=NL", min_rows=10**6) is None
    assert reference.for_window([], node="nowhere") is None
