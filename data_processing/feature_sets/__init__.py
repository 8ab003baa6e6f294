"""Feature sets of models: ``<model>.yaml`` (canonical expressions, DSL-derived features, label).

One file drives both paths: the training job's point-in-time join and the runtime service's online lookup.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from data_processing.domain.dsl import InvalidExpression
from data_processing.domain.etd_features import ORDER_FEATURES
from data_processing.domain.expressions import check_known, parse_feature_set
from data_processing.domain.features import ORDER_GROUP, FeatureSet
from data_processing.registry import FeatureGroupRegistry

DEFAULT_DIR = Path(__file__).parent


def load_feature_set(model: str, groups: FeatureGroupRegistry, directory: Path = DEFAULT_DIR) -> FeatureSet:
    """Read and check ``<directory>/<model>.yaml``: every feature it reads must exist (errors name it)."""
    path = directory / f"{model}.yaml"
    if not path.is_file():
        models = ", ".join(sorted(p.stem for p in directory.glob("*.yaml"))) or "none"
        raise InvalidExpression(f"unknown model {model!r} (known: {models})", field="model")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise InvalidExpression(f"{path.name}: not valid YAML ({exc})") from exc
    feature_set = parse_feature_set(data, path.name)
    known = {name: groups.get(name).feature_names for name in groups.names()}
    check_known(feature_set, {**known, ORDER_GROUP: ORDER_FEATURES}, path.name)
    return feature_set
