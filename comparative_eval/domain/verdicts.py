"""Judging a candidate against the stable version on the samples of the current step window.

Each rule of the template gives ``pass`` | ``fail`` | ``insufficient`` | ``not_applicable``; the verdict is
``rollback`` if any rule fails, ``hold`` while a rule lacks samples, else ``promote``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from comparative_eval.domain import statistics
from comparative_eval.domain.template import AnalysisTemplate

VerdictKind = Literal["promote", "hold", "rollback"]
VERDICTS: tuple[VerdictKind, ...] = ("promote", "hold", "rollback")


@dataclass(frozen=True)
class Observation:
    """One logged prediction of an arm, with its joined outcome if any."""

    ok: bool
    latency_ms: float | None
    abs_error: float | None = None  # |prediction - truth| when the ETD outcome joined
    helpful: bool | None = None  # the chatbot feedback when it joined


@dataclass(frozen=True)
class Verdict:
    model: str
    revision: int
    verdict: VerdictKind
    reasons: list[str]
    metrics: dict[str, dict[str, Any]]
    tests: dict[str, dict[str, Any]]
    at: datetime | None = None
    action: str | None = field(default=None, compare=False)  # what the analysis did about it, if anything

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "revision": self.revision,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "metrics": self.metrics,
            "tests": self.tests,
            "at": None if self.at is None else self.at.isoformat() + "Z",
            "action": self.action,
        }


@dataclass(frozen=True)
class _Arm:
    n: int
    errors: int
    latencies: list[float]
    abs_errors: list[float]
    helpful: list[bool]

    @classmethod
    def of(cls, observations: Sequence[Observation]) -> _Arm:
        return cls(
            n=len(observations),
            errors=sum(1 for o in observations if not o.ok),
            latencies=[o.latency_ms for o in observations if o.ok and o.latency_ms is not None],
            abs_errors=[o.abs_error for o in observations if o.abs_error is not None],
            helpful=[o.helpful for o in observations if o.helpful is not None],
        )

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.n,
            "errors": self.errors,
            "error_rate": _rate(self.errors, self.n),
            "latency_p99_ms": statistics.percentile(self.latencies, 99) if self.latencies else None,
            "joined_outcomes": len(self.abs_errors),
            "mae": sum(self.abs_errors) / len(self.abs_errors) if self.abs_errors else None,
            "feedback": len(self.helpful),
            "helpful_rate": _rate(sum(self.helpful), len(self.helpful)),
        }


def judge(
    template: AnalysisTemplate,
    model: str,
    revision: int,
    mode: str,
    stable: Sequence[Observation],
    candidate: Sequence[Observation],
) -> Verdict:
    s, c = _Arm.of(stable), _Arm.of(candidate)
    tests: dict[str, dict[str, Any]] = {}
    if template.error_rate is not None:
        tests["error_rate"] = _error_rate(template, s, c)
    if template.latency_p99 is not None:
        tests["latency_p99"] = _latency(template, s, c)
    if template.mae is not None:
        tests["mae"] = _mae(template, s, c)
    if template.helpful_rate is not None:
        tests["helpful_rate"] = _helpful(template, s, c, mode)
    verdict, reasons = _decide(tests)
    return Verdict(model, revision, verdict, reasons, {"stable": s.summary(), "candidate": c.summary()}, tests)


def _decide(tests: dict[str, dict[str, Any]]) -> tuple[VerdictKind, list[str]]:
    failed = [t["detail"] for t in tests.values() if t["outcome"] == "fail"]
    if failed:
        return "rollback", failed
    waiting = [t["detail"] for t in tests.values() if t["outcome"] == "insufficient"]
    if waiting:
        return "hold", waiting
    passed = [name for name, t in tests.items() if t["outcome"] == "pass"]
    if not passed:
        return "hold", ["no rule of the template applies in this mode"]
    return "promote", [f"no significant degradation in {', '.join(passed)}"]


def _insufficient(name: str, have: int, need: int, what: str) -> dict[str, Any]:
    return {
        "outcome": "insufficient",
        "min_samples": need,
        "samples": have,
        "detail": f"{name}: {have} of {need} {what} per arm so far",
    }


def _error_rate(template: AnalysisTemplate, s: _Arm, c: _Arm) -> dict[str, Any]:
    rule = template.error_rate
    assert rule is not None
    if min(s.n, c.n) < rule.min_samples:
        return _insufficient("error_rate", min(s.n, c.n), rule.min_samples, "requests")
    p_value, test = statistics.error_rate_p_value(s.errors, s.n, c.errors, c.n, rule.margin)
    failed = p_value < template.alpha
    rates = f"candidate {c.errors / c.n:.2%} vs stable {s.errors / s.n:.2%}"
    return {
        "outcome": "fail" if failed else "pass",
        "test": test,
        "p_value": p_value,
        "alpha": template.alpha,
        "margin": rule.margin,
        "detail": f"error_rate: {rates} (margin {rule.margin:.2%}, p={p_value:.3g}"
        + (f" < alpha {template.alpha})" if failed else ")"),
    }


def _latency(template: AnalysisTemplate, s: _Arm, c: _Arm) -> dict[str, Any]:
    rule = template.latency_p99
    assert rule is not None
    have = min(len(s.latencies), len(c.latencies))
    if have < rule.min_samples:
        return _insufficient("latency_p99", have, rule.min_samples, "successful requests")
    p99_s, p99_c = statistics.percentile(s.latencies, 99), statistics.percentile(c.latencies, 99)
    ratio = p99_c / p99_s if p99_s > 0 else (1.0 if p99_c == 0 else float("inf"))
    failed = ratio > rule.max_ratio
    return {
        "outcome": "fail" if failed else "pass",
        "test": "ratio",
        "ratio": ratio,
        "max_ratio": rule.max_ratio,
        "detail": f"latency_p99: candidate {p99_c:.1f} ms vs stable {p99_s:.1f} ms "
        f"(ratio {ratio:.2f}, max {rule.max_ratio:.2f})",
    }


def _mae(template: AnalysisTemplate, s: _Arm, c: _Arm) -> dict[str, Any]:
    rule = template.mae
    assert rule is not None
    have = min(len(s.abs_errors), len(c.abs_errors))
    if have < rule.min_samples:
        return _insufficient("mae", have, rule.min_samples, "joined outcomes")
    p_value = statistics.abs_error_p_value(s.abs_errors, c.abs_errors, rule.tolerance, rule.test)
    mae_s, mae_c = sum(s.abs_errors) / len(s.abs_errors), sum(c.abs_errors) / len(c.abs_errors)
    failed = p_value < template.alpha
    return {
        "outcome": "fail" if failed else "pass",
        "test": rule.test,
        "p_value": p_value,
        "alpha": template.alpha,
        "tolerance": rule.tolerance,
        "detail": f"mae: candidate {mae_c:.2f} vs stable {mae_s:.2f} min (tolerance {rule.tolerance:.0%} worse, "
        f"p={p_value:.3g}" + (f" < alpha {template.alpha})" if failed else ")"),
    }


def _helpful(template: AnalysisTemplate, s: _Arm, c: _Arm, mode: str) -> dict[str, Any]:
    rule = template.helpful_rate
    assert rule is not None
    if mode == "shadow":
        # customers only ever see the stable answer in shadow: the candidate gets no feedback
        return {"outcome": "not_applicable", "detail": "helpful_rate: no feedback on shadow answers"}
    have = min(len(s.helpful), len(c.helpful))
    if have < rule.min_samples:
        return _insufficient("helpful_rate", have, rule.min_samples, "feedback answers")
    h_s, h_c = sum(s.helpful), sum(c.helpful)
    p_value = statistics.helpful_rate_p_value(h_s, len(s.helpful), h_c, len(c.helpful), rule.tolerance)
    failed = p_value < template.alpha
    return {
        "outcome": "fail" if failed else "pass",
        "test": "two_proportion_z",
        "p_value": p_value,
        "alpha": template.alpha,
        "tolerance": rule.tolerance,
        "detail": f"helpful_rate: candidate {h_c / len(c.helpful):.2%} vs stable {h_s / len(s.helpful):.2%} "
        f"(tolerance {rule.tolerance:.2%}, p={p_value:.3g}" + (f" < alpha {template.alpha})" if failed else ")"),
    }


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None
