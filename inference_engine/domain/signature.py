"""The input signature of a model: which features it needs, and how a request's instances become rows.

A mismatch is the caller's fault (HTTP 400 naming the field), never a 500 from inside the model.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from inference_engine.errors import InvalidInstances
from strata_kernel.contracts.prediction import Instance, PredictRequest


@dataclass(frozen=True)
class InputSignature:
    features: tuple[str, ...]

    def rows(self, instances: Sequence[Instance]) -> Iterator[tuple[float, ...]]:
        """One tuple per instance in the model's feature order; None -> NaN (the model's missing value)."""
        for index, instance in enumerate(instances):
            if not isinstance(instance, dict):
                raise InvalidInstances(f"instances.{index} must be an object", field=f"instances.{index}")
            yield tuple(self._value(instance, index, feature) for feature in self.features)

    @staticmethod
    def _value(instance: Instance, index: int, feature: str) -> float:
        if feature not in instance:
            raise InvalidInstances(
                f"instances.{index}.{feature} is required (missing feature)", field=f"instances.{index}.{feature}"
            )
        value = instance[feature]
        if value is None:
            return math.nan
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
