"""Declared models as data_processing sees them: the declaration plus its checked feature set.

``model_specs/<name>.yaml`` (strata_kernel.contracts.model_spec) is parsed by the kernel; here its features are
checked against the feature groups (every ``@group:feature`` exists, every group is keyed by one of the model's
entities, the DSL parses) so a mistake is found when the model is loaded, not when a job or a request meets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from data_processing.domain.dsl import InvalidExpression
from data_processing.domain.expressions import check_known, feature_set_from_spec
from data_processing.domain.feature_groups import FeatureGroup
from data_processing.domain.features import FeatureSet
from data_processing.registry import FeatureGroupRegistry
from strata_kernel.contracts.model_spec import TIME_FEATURES, ModelSpec
from strata_kernel.model_specs import load_model_spec


@dataclass(frozen=True)
class DeclaredModel:
    spec: ModelSpec
    feature_set: FeatureSet
    #: the stored feature groups its features read, in the feature set's order
    groups: tuple[FeatureGroup, ...]

    @property
    def name(self) -> str:
        return self.spec.name


def declared_model(spec: ModelSpec, groups: FeatureGroupRegistry) -> DeclaredModel:
    """Check ``spec``'s features against the groups; InvalidExpression names the file and the feature."""
    origin = f"{spec.name}.yaml"
    feature_set = feature_set_from_spec(spec)
    known = {name: groups.get(name).feature_names for name in groups.names()}
    if spec.context_name in known:
        raise InvalidExpression(f"{origin}: context.name {spec.context_name!r} is also a feature group's name",
                                field="context")  # fmt: skip
    context = (*TIME_FEATURES, *(f.name for f in spec.context))
    check_known(feature_set, {**known, spec.context_name: context}, origin)
    stored = tuple(groups.get(name) for name in feature_set.stored_groups())
    for group in stored:
        if group.entity not in spec.entities:
            raise InvalidExpression(
                f"{origin}: features of group {group.name!r} are keyed by {group.entity!r}, which is not among the "
                f"model's entities ({', '.join(spec.entities)})",
                field="entities",
            )
    return DeclaredModel(spec, feature_set, stored)


def load_model(name: str, groups: FeatureGroupRegistry, specs_dir: Path) -> DeclaredModel:
    return declared_model(load_model_spec(name, specs_dir), groups)
