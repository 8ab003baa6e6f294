"""Verdicts: a clearly worse candidate is rolled back once samples suffice; an equivalent one is promoted; too few
samples hold; and a raw difference without significance decides nothing."""

from __future__ import annotations

import random

from comparative_eval.domain.template import parse_template
from comparative_eval.domain.verdicts import Observation, judge

TEMPLATE = parse_template(
    "etd",
    {
        "steps": [5, 25, 50, 100],
        "alpha": 0.05,
        "min_samples": 50,
        "rules": {
            "error_rate": {"margin": 0.01},
            "latency_p99": {"max_ratio": 1.5},
            "mae": {"tolerance": 0.05, "min_samples": 50},
        },
    },
)
HELPBOT = parse_template(
    "helpbot", {"steps": [50, 100], "rules": {"helpful_rate": {"tolerance": 0.05, "min_samples": 100}}}
)


def arm(n: int, error_scale: float, seed: int, latency: float = 10.0, error_every: int = 0) -> list[Observation]:
    rng = random.Random(seed)
    return [
        Observation(
            ok=not (error_every and i % error_every == 0),
            latency_ms=latency * rng.uniform(0.8, 1.2),
            abs_error=abs(rng.gauss(0.0, error_scale)),
        )
        for i in range(n)
    ]


def test_a_clearly_worse_candidate_is_rolled_back_once_samples_suffice() -> None:
    verdict = judge(TEMPLATE, "etd", 2, "canary", arm(200, 4.0, 1), arm(60, 9.0, 2))
    assert verdict.verdict == "rollback"
    assert verdict.tests["mae"]["outcome"] == "fail" and verdict.tests["mae"]["p_value"] < 0.05
    assert any(reason.startswith("mae: candidate") for reason in verdict.reasons)


def test_the_same_worse_candidate_is_held_below_the_minimum_sample() -> None:
    verdict = judge(TEMPLATE, "etd", 2, "canary", arm(200, 4.0, 1), arm(30, 9.0, 2))
    assert verdict.verdict == "hold"
    assert verdict.tests["mae"] == {
        "outcome": "insufficient",
        "min_samples": 50,
        "samples": 30,
        "detail": "mae: 30 of 50 joined outcomes per arm so far",
    }


def test_an_equivalent_candidate_is_promoted() -> None:
    verdict = judge(TEMPLATE, "etd", 2, "canary", arm(300, 4.0, 1), arm(300, 4.0, 3))
    assert verdict.verdict == "promote", verdict.reasons
    assert {t["outcome"] for t in verdict.tests.values()} == {"pass"}


def test_a_raw_difference_without_significance_does_not_roll_back() -> None:
    rng = random.Random(5)
    errors = [rng.uniform(0.0, 8.0) for _ in range(60)]

    def side(scale: float) -> list[Observation]:
        return [Observation(ok=True, latency_ms=10.0, abs_error=e * scale) for e in errors]

    # the candidate is 15% worse, raw (beyond the 5% tolerance), but 60 noisy samples do not make it significant
    noisy = judge(TEMPLATE, "etd", 2, "canary", side(1.0), side(1.15))
    assert noisy.tests["mae"]["outcome"] == "pass" and noisy.tests["mae"]["p_value"] >= 0.05
    assert noisy.verdict == "promote"
    # twice as bad on the same samples is significant
    doubled = judge(TEMPLATE, "etd", 2, "canary", side(1.0), side(2.0))
    assert doubled.verdict == "rollback" and doubled.tests["mae"]["p_value"] < 0.05


def test_error_rate_uses_fisher_for_few_errors_and_needs_significance() -> None:
    few = judge(TEMPLATE, "etd", 2, "canary", arm(100, 4.0, 1), arm(60, 4.0, 2, error_every=30))
    assert few.tests["error_rate"]["test"] == "fisher_exact"
    assert few.tests["error_rate"]["outcome"] == "pass"  # 2 errors in 60 vs none: not significant
    many = judge(TEMPLATE, "etd", 2, "canary", arm(400, 4.0, 1), arm(200, 4.0, 2, error_every=5))
    assert many.verdict == "rollback"
    assert many.tests["error_rate"]["outcome"] == "fail"


def test_latency_p99_ratio_rule() -> None:
    verdict = judge(TEMPLATE, "etd", 2, "canary", arm(200, 4.0, 1, latency=10), arm(200, 4.0, 2, latency=20))
    assert verdict.tests["latency_p99"]["outcome"] == "fail"
    assert verdict.tests["latency_p99"]["ratio"] > 1.5


def test_helpful_rate_two_proportions_and_not_applicable_in_shadow() -> None:
    def answers(n: int, helpful_share: float) -> list[Observation]:
        return [Observation(ok=True, latency_ms=5.0, helpful=i < n * helpful_share) for i in range(n)]

    worse = judge(HELPBOT, "helpbot", 2, "canary", answers(400, 0.7), answers(200, 0.45))
    assert worse.verdict == "rollback" and worse.tests["helpful_rate"]["outcome"] == "fail"
    same = judge(HELPBOT, "helpbot", 2, "canary", answers(400, 0.7), answers(200, 0.68))
    assert same.verdict == "promote"
    shadow = judge(HELPBOT, "helpbot", 2, "shadow", answers(400, 0.7), answers(200, 0.1))
    assert shadow.tests["helpful_rate"]["outcome"] == "not_applicable"
    assert shadow.verdict == "hold"  # no rule can judge a shadow chatbot
