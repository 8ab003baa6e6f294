"""A model's feature set as data: canonical expressions + DSL-derived features + label.

The same JSON travels with the training set (and from there with the model) so training and serving
compute the model's inputs from one definition. ``model_inputs`` is the one code path doing it, on
columns of any length (1M rows in the training job, 1 row in the runtime service).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from data_processing.domain import dsl
from data_processing.domain.features import CONTEXT_GROUP, DERIVED_GROUP, FeatureRef, FeatureSet
from strata_kernel.contracts.model_spec import ModelSpec

SPEC_VERSION = 2  # 2: the context's name travels too
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class DerivedFeature:
    """``name`` computed by a DSL expression; its columns are ``derived__<name>[_<category>]``."""

    name: str
    expression: dsl.Node

    @property
    def refs(self) -> tuple[FeatureRef, ...]:
        return dsl.refs(self.expression)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f"{DERIVED_GROUP}__{name}" for name in dsl.output_names(self.name, self.expression))

    def compute(self, columns: Mapping[str, dsl.Column]) -> dict[str, dsl.Column]:
        outputs = dsl.evaluate_columns(self.name, self.expression, columns)
        return {f"{DERIVED_GROUP}__{name}": values for name, values in outputs.items()}


def parse_feature_set(data: Any, origin: str) -> FeatureSet:
    """Validate a feature set spec (YAML or JSON); errors name the file and the field."""
    if not isinstance(data, Mapping):
        raise dsl.InvalidExpression(f"{origin}: must be a mapping with model, features, derived, label")
    model, features = data.get("model"), data.get("features")
    if not isinstance(model, str) or not model:
        raise dsl.InvalidExpression(f"{origin}: model: missing", field="model")
    if not isinstance(features, list) or not features:
        raise dsl.InvalidExpression(f"{origin}: features: must be a non-empty list of '@group:feature'")
    expressions = tuple(_feature_expression(item, f"{origin}: features.{i}") for i, item in enumerate(features))
    derived = tuple(_derived(item, f"{origin}: derived.{i}") for i, item in enumerate(data.get("derived") or []))
    context = str(data.get("context") or CONTEXT_GROUP)
    feature_set = FeatureSet(model, expressions, derived, str(data.get("label") or "label"), context)
    _check_unique(feature_set, origin)
    return feature_set


def feature_set_from_spec(spec: ModelSpec) -> FeatureSet:
    """The features of a declaration (``model_specs/<name>.yaml``): expressions and DSL checked, names unique."""
    origin = f"{spec.name}.yaml"
    expressions = tuple(_feature_expression(item, f"{origin}: features.{i}") for i, item in enumerate(spec.features))
    derived = tuple(_derived(item, f"{origin}: derived.{i}") for i, item in enumerate(spec.derived))
    feature_set = FeatureSet(spec.name, expressions, derived, spec.label, spec.context_name)
    _check_unique(feature_set, origin)
    return feature_set


def feature_set_to_json(feature_set: FeatureSet) -> dict[str, Any]:
    """The spec as JSON (derived expressions as trees): stored with the training set and the model."""
    return {
        "spec_version": SPEC_VERSION,
        "model": feature_set.model,
        "features": list(feature_set.expressions),
        "derived": [{"name": d.name, "expression": dsl.to_json(d.expression)} for d in feature_set.derived],
        "label": feature_set.label,
        "context": feature_set.context,
        "columns": list(feature_set.columns),
    }


def check_known(feature_set: FeatureSet, known: Mapping[str, tuple[str, ...]], origin: str) -> None:
    """Every feature read must exist: ``known`` maps group -> its features; errors name the feature."""
    for ref in feature_set.required_refs:
        if ref.group not in known:
            groups = ", ".join(sorted(known))
            raise dsl.InvalidExpression(f"{origin}: {ref.expression}: unknown feature group {ref.group!r} ({groups})")
        if ref.feature not in known[ref.group]:
            raise dsl.InvalidExpression(
                f"{origin}: {ref.expression}: unknown feature {ref.feature!r} of group {ref.group!r} "
                f"(known: {', '.join(known[ref.group])})"
            )


def model_inputs(feature_set: FeatureSet, fetched: Mapping[str, dsl.Column]) -> dict[str, dsl.Column]:
    """The model's input columns in order: requested ones as fetched, derived ones computed.

    ``fetched`` maps the column of every ``required_refs`` feature to an array (None/NaN = missing).
    """
    inputs = {ref.column: fetched[ref.column] for ref in feature_set.refs}
    for feature in feature_set.derived:
        inputs.update(feature.compute(fetched))
    return inputs


def _feature_expression(item: Any, where: str) -> str:
    try:
        ref = FeatureRef.parse(str(item))
    except ValueError as exc:
        raise dsl.InvalidExpression(f"{where}: {exc}") from None
    if ref.group == DERIVED_GROUP:
        raise dsl.InvalidExpression(f"{where}: {item}: derived features are declared under 'derived'")
    return ref.expression


def _derived(item: Any, where: str) -> DerivedFeature:
    if not isinstance(item, Mapping) or not item.get("name") or item.get("expression") in (None, ""):
        raise dsl.InvalidExpression(f"{where}: needs a name and an expression")
    name = str(item["name"])
    if not _NAME.match(name) or "__" in name:
        raise dsl.InvalidExpression(f"{where}: name {name!r} must be a lowercase identifier")
    source = item["expression"]
    try:
        node = dsl.parse(source) if isinstance(source, str) else dsl.from_json(source, f"{where}.expression")
    except dsl.InvalidExpression as exc:
        raise dsl.InvalidExpression(f"{where} ({name}): {exc.message}") from None
    derived_refs = [r.expression for r in dsl.refs(node) if r.group == DERIVED_GROUP]
    if derived_refs:
        raise dsl.InvalidExpression(f"{where} ({name}): reads derived feature(s) {derived_refs}: not supported")
    return DerivedFeature(name, node)


def _check_unique(feature_set: FeatureSet, origin: str) -> None:
    columns = feature_set.columns
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise dsl.InvalidExpression(f"{origin}: duplicate feature(s) {', '.join(duplicates)}", field="features")


def nan_to_none(values: dsl.Column) -> list[Any]:
    """A float column as JSON-ready values (NaN -> None), for one-row serving."""
    return [None if isinstance(v, float) and np.isnan(v) else v for v in np.asarray(values).tolist()]
