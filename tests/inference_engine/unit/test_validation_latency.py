"""The latency budget of validation judges the version's own cost: a stall of the shared host during one round of
timing does not refuse a good version; a version slower than the budget in every round is refused."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace
from typing import Any, cast

from inference_engine.routing.deployment import LoadedModel
from inference_engine.routing.validation import LATENCY_ROUNDS, check_version
from strata_kernel.contracts.prediction import ValidationRequest

SAMPLE = [{"a__x": 1.0}] * 10


class SleepyRuntime:
    """Answers 30.0; sleeps ``seconds`` on each of its first ``slow_calls`` predictions."""

    def __init__(self, slow_calls: int, seconds: float = 0.03) -> None:
        self.calls = 0
        self._slow_calls = slow_calls
        self._seconds = seconds

    def predict(self, instances: list[dict[str, Any]]) -> list[float]:
        self.calls += 1
        if self.calls <= self._slow_calls:
            time.sleep(self._seconds)
        return [30.0 for _ in instances]


def validate(runtime: SleepyRuntime, budget_ms: float = 20.0) -> dict[str, Any]:
    loaded = cast(LoadedModel, SimpleNamespace(served=SimpleNamespace(features=("a__x",)), runtime=runtime))
    return check_version(loaded, ["a__x"], ValidationRequest(SAMPLE, budget_ms))


def test_a_stall_during_the_first_round_of_timing_does_not_refuse_a_fast_version() -> None:
    runtime = SleepyRuntime(slow_calls=len(SAMPLE))  # the whole first round stalls, as on a loaded host

    report = validate(runtime)

    assert report["ok"] is True, report["problems"]
    assert report["p99_ms"] < 20.0
    assert runtime.calls == 2 * len(SAMPLE)  # timed once more, then judged


def test_a_version_over_budget_in_every_round_is_refused_and_says_so() -> None:
    runtime = SleepyRuntime(slow_calls=10**6)

    report = validate(runtime)

    assert report["ok"] is False
    [problem] = report["problems"]
    expected = rf"p99 latency [\d.]+ ms is over the budget of 20 ms \(best of {LATENCY_ROUNDS} rounds\)"
    assert re.fullmatch(expected, problem), problem
    assert report["p99_ms"] >= 30.0
    assert runtime.calls == LATENCY_ROUNDS * len(SAMPLE)


def test_a_fast_version_is_timed_once() -> None:
    runtime = SleepyRuntime(slow_calls=0)

    assert validate(runtime)["ok"] is True
    assert runtime.calls == len(SAMPLE)
