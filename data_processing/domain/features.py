"""Canonical feature expressions (``@group:feature``) and their column names (``group__feature``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from data_processing.domain.expressions import DerivedFeature

#: the default pseudo-group of a model's request context (a declaration names its own, e.g. ``order`` for ETD)
CONTEXT_GROUP = "context"
DERIVED_GROUP = "derived"  # pseudo-group: features a model computes from others with the DSL (domain/dsl.py)


@dataclass(frozen=True)
class FeatureRef:
    group: str
    feature: str

    @property
    def expression(self) -> str:
        return f"@{self.group}:{self.feature}"

    @property
    def column(self) -> str:
        return f"{self.group}__{self.feature}"

    @classmethod
    def parse(cls, expression: str) -> FeatureRef:
        """Parse ``@group:feature``; raises ValueError naming the bad expression."""
        body = expression[1:] if expression.startswith("@") else ""
        group, sep, feature = body.partition(":")
        if not sep or not _is_identifier(group) or not _is_identifier(feature):
            raise ValueError(f"feature expression {expression!r} must look like '@group:feature'")
        return cls(group, feature)


@dataclass(frozen=True)
class FeatureSet:
    """The ordered features a model consumes: canonical expressions, then DSL-derived features.

    ``derived`` features read requested or other features (``@group:feature``); ``label`` is the source column
    of the training label; ``context`` names the pseudo-group of what a request carries (``@order:n_items``) and
    of the nominal time's ``hour_of_day`` / ``day_of_week``. Built from the model's declaration
    (``model_specs/<model>.yaml``, see ``data_processing.models.load_model``).
    """

    # refs/columns are cached: the feature set is immutable and the estimate path reads them on every request
    model: str
    expressions: tuple[str, ...]
    derived: tuple[DerivedFeature, ...] = ()
    label: str = "label"
    context: str = CONTEXT_GROUP

    @cached_property
    def refs(self) -> tuple[FeatureRef, ...]:
        """The requested features (model inputs as they are)."""
        return tuple(FeatureRef.parse(e) for e in self.expressions)

    @cached_property
    def required_refs(self) -> tuple[FeatureRef, ...]:
        """Every feature to fetch: the requested ones, then those only the derived features read."""
        found = dict.fromkeys(self.refs)
        for feature in self.derived:
            found.update(dict.fromkeys(feature.refs))
        return tuple(found)

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """The model's input columns, in order."""
        derived = (column for feature in self.derived for column in feature.columns)
        return (*(ref.column for ref in self.refs), *derived)

    def stored_groups(self) -> dict[str, tuple[str, ...]]:
        """Feature groups read from a store (everything but the request context), with their features."""
        groups: dict[str, list[str]] = {}
        for ref in self.required_refs:
            if ref.group not in (self.context, DERIVED_GROUP):
                groups.setdefault(ref.group, []).append(ref.feature)
        return {group: tuple(features) for group, features in groups.items()}


def _is_identifier(text: str) -> bool:
    return bool(text) and text.replace("_", "a").isalnum() and not text.startswith("_") and "__" not in text
