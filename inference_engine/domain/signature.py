"""The input signature of a model: which features it needs, and how a request's instances become rows.

A mismatch is the caller's fault (HTTP 400 naming the field), never a 500 from inside the model.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from inference_engine.errors import InvalidInstances
from strata_kernel.contracts.prediction import Instance, PredictRequest


@dataclass(frozen=True)
class InputSignature:
    features: tuple[str, ...]
    #: categorical (text) features -> their categories in the model's order; a value's index is what the model saw
    categories: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @classmethod
    def of(cls, features: Sequence[str], tags: Mapping[str, str]) -> InputSignature:
        """From a version's features and its ``categories`` tag (JSON ``{feature: [category, ...]}``)."""
        raw = json.loads(tags.get("categories") or "{}")
        return cls(
            tuple(features), {name: {value: i for i, value in enumerate(values)} for name, values in raw.items()}
        )

    def rows(self, instances: Sequence[Instance]) -> Iterator[tuple[float, ...]]:
        """One tuple per instance in the model's feature order; None -> NaN (the model's missing value)."""
        for index, instance in enumerate(instances):
            if not isinstance(instance, dict):
                raise InvalidInstances(f"instances.{index} must be an object", field=f"instances.{index}")
            yield tuple(self._value(instance, index, feature) for feature in self.features)

    def _value(self, instance: Instance, index: int, feature: str) -> float:
        if feature not in instance:
            raise InvalidInstances(
                f"instances.{index}.{feature} is required (missing feature)", field=f"instances.{index}.{feature}"
            )
        value = instance[feature]
        if value is None:
            return math.nan
        categories = self.categories.get(feature)
        if categories is not None:  # a category unseen in training is missing, as in the held-out evaluation
            if not isinstance(value, str):
                raise InvalidInstances(f"instances.{index}.{feature} is categorical: a string or null, got "
                                       f"{type(value).__name__}", field=f"instances.{index}.{feature}")  # fmt: skip
            return float(categories.get(value, math.nan))
        # bool is an int in Python, but true/false for a numeric feature is a client bug
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInstances(
                f"instances.{index}.{feature} must be a number or null, got {type(value).__name__}",
                field=f"instances.{index}.{feature}",
            )
        return float(value)


def parse_instances(body: Any, max_instances: int) -> list[Instance]:
    """Validate the envelope ``{"instances": [...]}`` (1..max_instances items): the published PredictRequest."""
    return PredictRequest.from_wire(body, max_instances).instances
