"""Canonical feature expressions (``@group:feature``) and their column names (``group__feature``)."""

from __future__ import annotations

from dataclasses import dataclass

ORDER_GROUP = "order"  # pseudo-group: features computed from the order itself, not from a stored group


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
    """The ordered features a model consumes, as canonical expressions."""

    model: str
    expressions: tuple[str, ...]

    @property
    def refs(self) -> tuple[FeatureRef, ...]:
        return tuple(FeatureRef.parse(e) for e in self.expressions)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(ref.column for ref in self.refs)

    def stored_groups(self) -> dict[str, tuple[str, ...]]:
        """Feature groups read from a store (everything but the order context), with their features."""
        groups: dict[str, list[str]] = {}
        for ref in self.refs:
            if ref.group != ORDER_GROUP:
                groups.setdefault(ref.group, []).append(ref.feature)
        return {group: tuple(features) for group, features in groups.items()}


def _is_identifier(text: str) -> bool:
    return bool(text) and text.replace("_", "a").isalnum() and not text.startswith("_") and "__" not in text
