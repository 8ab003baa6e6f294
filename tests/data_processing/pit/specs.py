"""The ETD model as the repository declares it (model_specs/etd.yaml) over the packaged feature groups."""

from __future__ import annotations

from data_processing.models import load_model
from data_processing.ports import InferenceEngine, OnlineStore
from data_processing.registry import FeatureGroupRegistry
from data_processing.services import EtdEstimator
from data_processing.serving import ModelPredictor
from data_processing.settings import Settings

REGISTRY = FeatureGroupRegistry.load(Settings().resolved_feature_groups_dir())
ETD = load_model("etd", REGISTRY, Settings().resolved_model_specs_dir())
ETD_FEATURE_SET = ETD.feature_set


def etd_estimator(store: OnlineStore, engine: InferenceEngine) -> EtdEstimator:
    """ETD's estimate over the generic online path of the declared model."""
    predictor = ModelPredictor(ETD, store, engine)
    return EtdEstimator(lambda: predictor)
