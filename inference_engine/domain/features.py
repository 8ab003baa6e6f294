"""Naming rules of feature columns in training sets (docs/contracts.md)."""

from __future__ import annotations

from collections.abc import Iterable

FEATURE_SEPARATOR = "__"
LABEL_COLUMN = "label"


def feature_columns(columns: Iterable[str]) -> list[str]:
    """Exactly the columns containing ``__``, sorted so the model's column order never depends on file order."""
    return sorted(column for column in columns if FEATURE_SEPARATOR in column)


def canonical_feature(column: str) -> str:
    """``restaurant_stats__avg_prep_minutes_7d`` -> ``@restaurant_stats:avg_prep_minutes_7d``."""
    group, _, feature = column.partition(FEATURE_SEPARATOR)
    return f"@{group}:{feature}"


def missing_columns(columns: Iterable[str], required: Iterable[str]) -> list[str]:
    present = set(columns)
    return [column for column in required if column not in present]
