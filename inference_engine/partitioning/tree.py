"""The hierarchy of nodes and its rules (pure: no I/O, no frameworks).

A node is a prefix of the partition keys: ``()`` is global, ``("NL",)`` a country, ``("NL", "c-0001")`` a city.
Fallback rule: a node serves with its own model only when it was trained and beat the model that would
otherwise serve it (its nearest ancestor with a model); every other node is served by that ancestor.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

GLOBAL = "global"

NodeKey = tuple[str, ...]

# statuses of a node after training
TRAINED = "trained"  # has its own model and serves with it
SKIPPED_MIN_ROWS = "skipped_min_rows"
SKIPPED_NO_VALIDATION = "skipped_no_validation"
SKIPPED_ONE_CLASS = "skipped_one_class"
SKIPPED_MIN_VALIDATION_ROWS = "skipped_min_validation_rows"
WORSE_THAN_PARENT = "worse_than_parent"
NOT_BETTER_BY_MARGIN = "not_better_by_min_improvement"  # beats its parent, but by less than min_improvement
FAILED = "failed"
HAS_MODEL = frozenset({TRAINED})


def node_id(partition_by: Sequence[str], key: NodeKey) -> str:
    """``global`` or ``country_code=NL/city_id=c-0001``: readable, unique, stable."""
    if not key:
        return GLOBAL
    return "/".join(f"{column}={value}" for column, value in zip(partition_by, key, strict=False))


def file_stem(node: str) -> str:
    """A file name for a node id: readable, unique (hash suffix), and with no character any store rewrites
    (MLflow URL-decodes artifact names, so ``%`` escapes are out)."""
    readable = re.sub(r"[^A-Za-z0-9_.-]", "_", node)[:80]
    return f"{readable}-{hashlib.sha256(node.encode()).hexdigest()[:10]}"


def ancestors(key: NodeKey) -> list[NodeKey]:
    """Nearest first: ``("NL", "c1")`` -> ``[("NL",), ()]``."""
    return [key[:depth] for depth in range(len(key) - 1, -1, -1)]


@dataclass(frozen=True)
class NodeOutcome:
    """What training decided for one node (persisted as JSON as soon as the node completes)."""

    node: str
    key: NodeKey
    status: str
    reason: str
    rows: int  # training-window rows (fit + validation)
    rows_valid: int
    metric: float | None = None  # the node's own model on its validation rows
    parent_metric: float | None = None  # the ancestor that would serve it, on the same rows
    compared_with: str | None = None
    model_file: str | None = None
    fitted_params: Mapping[str, Any] | None = None
    metrics: Mapping[str, float] | None = None
    improvement: float | None = None  # relative gain over the parent on the node's validation rows (0.02 = 2%)
    attempt: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["key"] = list(self.key)
        return body

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> NodeOutcome:
        return cls(**{**body, "key": tuple(body["key"])})


def relative_improvement(own: float, parent: float, *, lower_is_better: bool) -> float:
    """How much better ``own`` is than ``parent``, relative to the parent (negative = worse; NaN stays NaN)."""
    gain = parent - own if lower_is_better else own - parent
    if parent == 0:
        return math.inf if gain > 0 else (0.0 if gain == 0 else -math.inf)
    return gain / abs(parent)


def serving_node(key: NodeKey, with_model: Mapping[NodeKey, str]) -> str | None:
    """The deepest node among ``key`` and its ancestors that has a model (None: not even global has one)."""
    for candidate in [key, *ancestors(key)]:
        if candidate in with_model:
            return with_model[candidate]
    return None


def nodes_with_model(outcomes: Iterable[NodeOutcome]) -> dict[NodeKey, str]:
    return {outcome.key: outcome.node for outcome in outcomes if outcome.status in HAS_MODEL}


def served_by(outcomes: Sequence[NodeOutcome]) -> dict[str, str | None]:
    """node id -> the node whose model answers for it."""
    with_model = nodes_with_model(outcomes)
    return {outcome.node: serving_node(outcome.key, with_model) for outcome in outcomes}


def level_order(keys: Iterable[NodeKey]) -> list[list[NodeKey]]:
    """Keys grouped by depth, each level sorted: the top-down schedule."""
    by_level: dict[int, list[NodeKey]] = {}
    for key in keys:
        by_level.setdefault(len(key), []).append(key)
    return [sorted(by_level[level]) for level in sorted(by_level)]
