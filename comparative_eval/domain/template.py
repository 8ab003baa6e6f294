"""Analysis templates: the canary steps, the judging interval and the rule of each metric.

Parsed from a plain mapping (the YAML file's content); any problem raises :class:`TemplateError` naming the
key, e.g. ``rules.mae.tolerance: must be a number >= 0``. Unknown keys are refused too (a typo must not silently
fall back to a default).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

TESTS = ("mann_whitney", "welch")


class TemplateError(ValueError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class ErrorRateRule:
    min_samples: int
    margin: float  # absolute: candidate error rate may exceed stable's by this much


@dataclass(frozen=True)
class LatencyRule:
    min_samples: int
    max_ratio: float  # candidate p99 / stable p99 above this fails


@dataclass(frozen=True)
class MaeRule:
    min_samples: int  # joined outcomes per arm
    tolerance: float  # relative: candidate MAE may be this fraction worse
    test: str = "mann_whitney"


@dataclass(frozen=True)
class HelpfulRule:
    min_samples: int  # feedback answers per arm
    tolerance: float  # absolute: candidate helpful rate may be this much lower


@dataclass(frozen=True)
class AnalysisTemplate:
    name: str
    steps: tuple[int, ...]
    interval_seconds: float
    alpha: float
    latency_budget_ms: float
    error_rate: ErrorRateRule | None = None
    latency_p99: LatencyRule | None = None
    mae: MaeRule | None = None
    helpful_rate: HelpfulRule | None = None
    description: str = field(default="", compare=False)


_TOP_KEYS = {"description", "steps", "interval_seconds", "alpha", "latency_budget_ms", "min_samples", "rules"}
_RULE_KEYS = {
    "error_rate": {"min_samples", "margin"},
    "latency_p99": {"min_samples", "max_ratio"},
    "mae": {"min_samples", "tolerance", "test"},
    "helpful_rate": {"min_samples", "tolerance"},
}


def parse_template(name: str, data: Any) -> AnalysisTemplate:
    if not isinstance(data, dict):
        raise TemplateError("(top level)", "must be a mapping")
    _no_unknown(data, _TOP_KEYS, "")
    steps = _steps(data.get("steps"))
    default_min = _int(data, "min_samples", "", 100, minimum=1)
    rules = data.get("rules")
    if not isinstance(rules, dict) or not rules:
        raise TemplateError("rules", f"must be a non-empty mapping with some of {sorted(_RULE_KEYS)}")
    _no_unknown(rules, set(_RULE_KEYS), "rules.")
    parsed: dict[str, Any] = {}
    for key, allowed in _RULE_KEYS.items():
        if key not in rules:
            continue
        rule = rules[key] if rules[key] is not None else {}
        prefix = f"rules.{key}."
        if not isinstance(rule, dict):
            raise TemplateError(f"rules.{key}", "must be a mapping")
        _no_unknown(rule, allowed, prefix)
        minimum = _int(rule, "min_samples", prefix, default_min, minimum=1)
        if key == "error_rate":
            parsed[key] = ErrorRateRule(minimum, _number(rule, "margin", prefix, 0.01, maximum=1.0))
        elif key == "latency_p99":
            parsed[key] = LatencyRule(minimum, _number(rule, "max_ratio", prefix, 1.5, minimum=1.0))
        elif key == "mae":
            test = rule.get("test", "mann_whitney")
            if test not in TESTS:
                raise TemplateError(f"{prefix}test", f"must be one of {list(TESTS)}, got {test!r}")
            parsed[key] = MaeRule(minimum, _number(rule, "tolerance", prefix, 0.05), test)
        else:
            parsed[key] = HelpfulRule(minimum, _number(rule, "tolerance", prefix, 0.05, maximum=1.0))
    return AnalysisTemplate(
        name=name,
        steps=steps,
        interval_seconds=_number(data, "interval_seconds", "", 60.0, minimum=0.01),
        alpha=_alpha(data),
        latency_budget_ms=_number(data, "latency_budget_ms", "", 100.0, minimum=0.001),
        description=str(data.get("description", "")),
        **parsed,
    )


def _no_unknown(data: dict[str, Any], allowed: set[str], prefix: str) -> None:
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise TemplateError(f"{prefix}{unknown[0]}", f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _steps(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise TemplateError("steps", "must be a non-empty list of canary weights, e.g. [5, 25, 50, 100]")
    for index, step in enumerate(value):
        if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= 100:
            raise TemplateError(f"steps.{index}", f"must be an integer in 1..100, got {step!r}")
    if any(b <= a for a, b in itertools.pairwise(value)):
        raise TemplateError("steps", f"must be strictly increasing, got {value}")
    if value[-1] != 100:
        raise TemplateError("steps", f"must end with 100 (the candidate becomes stable), got {value}")
    return tuple(value)


def _int(data: dict[str, Any], key: str, prefix: str, default: int, minimum: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise TemplateError(f"{prefix}{key}", f"must be an integer >= {minimum}, got {value!r}")
    return value


def _number(
    data: dict[str, Any], key: str, prefix: str, default: float, minimum: float = 0.0, maximum: float | None = None
) -> float:
    value = data.get(key, default)
    bad = isinstance(value, bool) or not isinstance(value, int | float) or value < minimum
    if bad or (maximum is not None and value > maximum):
        bound = f"in [{minimum}, {maximum}]" if maximum is not None else f">= {minimum}"
        raise TemplateError(f"{prefix}{key}", f"must be a number {bound}, got {value!r}")
    return float(value)


def _alpha(data: dict[str, Any]) -> float:
    value = data.get("alpha", 0.05)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 0.5:
        raise TemplateError("alpha", f"must be a number in (0, 0.5), got {value!r}")
    return float(value)
