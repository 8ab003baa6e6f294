"""Validation of a version before it gets traffic: it loads, it asks for no feature the serving version's
request schema lacks, and it scores every sample instance with a finite answer within the latency budget (p99).

Problems are collected, not raised: the caller (comparative_eval) refuses the deploy and shows them all.

The budget judges the version's own cost, not the host's load at that instant: a sample over budget is timed again,
up to ``LATENCY_ROUNDS`` rounds in all, and the best round's p99 counts (as ``timeit`` takes the best of its repeats).
A version that is really too slow is over budget in every round; one stall of a shared host no longer refuses a
good version.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from strata_kernel.contracts.prediction import ValidationReport, ValidationRequest
from strata_kernel.errors import StrataError

if TYPE_CHECKING:
    from inference_engine.routing.deployment import LoadedModel

MAX_PROBLEMS = 20  # enough to see the pattern; a thousand identical lines help nobody
LATENCY_ROUNDS = 3


def check_version(
    loaded: LoadedModel | None,
    serving_features: Sequence[str],
    request: ValidationRequest,
    *,
    load_problem: str | None = None,
) -> dict[str, Any]:
    """``{"ok", "problems", "p99_ms", "instances"}`` of ``loaded`` (None = it did not load: ``load_problem``)."""
    count = len(request.instances)
    if loaded is None:
        return _report([f"the version does not load: {load_problem}"], None, count)
    problems: list[str] = []
    unknown = [feature for feature in loaded.served.features if feature not in set(serving_features)]
    if unknown:
        problems.append(f"features the serving version's requests do not carry: {', '.join(unknown)}")
    timings: list[float] = []
    for index, instance in enumerate(request.instances):
        try:
            answer, milliseconds = _scored(loaded, instance)
        except StrataError as exc:
            problems.append(f"instance {index}: {exc.message}")
            continue
        except Exception as exc:
            problems.append(f"instance {index}: the model raised {type(exc).__name__}: {exc}")
            continue
        timings.append(milliseconds)
        if not _finite(answer[0] if len(answer) else None):
            problems.append(f"instance {index}: prediction {answer[:1]!r} is not a finite number")
    p99 = _p99(timings)
    rounds = 1
    while p99 is not None and p99 > request.latency_budget_ms and rounds < LATENCY_ROUNDS and not problems:
        p99 = min(p99, _p99(_timed(loaded, request.instances)) or p99)
        rounds += 1
    if p99 is not None and p99 > request.latency_budget_ms:
        problems.append(f"p99 latency {p99:.2f} ms is over the budget of {request.latency_budget_ms:g} ms "
                        f"(best of {rounds} rounds)")  # fmt: skip
    return _report(problems, p99, count)


def _timed(loaded: LoadedModel, instances: Sequence[dict[str, Any]]) -> list[float]:
    """Milliseconds per instance of one more round over a sample that already scored without a problem."""
    return [_scored(loaded, instance)[1] for instance in instances]


def _scored(loaded: LoadedModel, instance: dict[str, Any]) -> tuple[Any, float]:
    """The version's answer for one instance and the milliseconds it took: the one way an instance is timed."""
    started = time.perf_counter()
    answer = loaded.runtime.predict([instance])
    return answer, (time.perf_counter() - started) * 1000.0


def _report(problems: list[str], p99: float | None, count: int) -> dict[str, Any]:
    shown = problems[:MAX_PROBLEMS]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"... and {len(problems) - MAX_PROBLEMS} more problems")
    return ValidationReport(not problems, shown, None if p99 is None else round(p99, 3), count).to_wire()


def _p99(timings: list[float]) -> float | None:
    if not timings:
        return None
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


def _finite(prediction: Any) -> bool:
    """A number must be finite; an answer object (the chatbot's) must carry only finite numbers."""
    if isinstance(prediction, bool):
        return False
    if isinstance(prediction, int | float):
        return math.isfinite(prediction)
    if isinstance(prediction, Mapping):
        numbers = [v for v in prediction.values() if isinstance(v, int | float) and not isinstance(v, bool)]
        return all(math.isfinite(number) for number in numbers)
    return False
