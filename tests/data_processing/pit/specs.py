"""The ETD feature set and groups as the package ships them (feature_sets/etd.yaml, feature_groups/)."""

from __future__ import annotations

from data_processing.feature_sets import load_feature_set
from data_processing.registry import FeatureGroupRegistry
from data_processing.settings import Settings

REGISTRY = FeatureGroupRegistry.load(Settings().resolved_feature_groups_dir())
ETD_FEATURE_SET = load_feature_set("etd", REGISTRY)
