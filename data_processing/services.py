"""Use cases of the runtime service over ports (no Flask, no HTTP, no pandas on the hot path).

Every declared model is served by a :class:`~data_processing.serving.ModelPredictor`, built on first use by the
:class:`ModelCatalog`; ETD's estimate is one client of its predictor (business logic's contract keeps its shape).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from data_processing.domain.orders import OrderContext
from data_processing.models import load_model
from data_processing.ports import InferenceEngine, OnlineStore
from data_processing.registry import FeatureGroupRegistry
from data_processing.serving import ModelPredictor
from strata_kernel.contracts.etd import Estimate
from strata_kernel.contracts.serving import ServingInstance
from strata_kernel.contracts.time_zones import aware
from strata_kernel.model_specs import UnknownModel

#: builds the lookup observer of a model (metrics + feature usage), given the model and its stored expressions
LookupObserver = Callable[[str, tuple[str, ...]], Callable[[float], None]]


class ModelCatalog:
    """The predictors of declared models (``model_specs_dir``), each built and checked once, on first use."""

    def __init__(
        self,
        specs_dir: Path,
        groups: FeatureGroupRegistry,
        store: OnlineStore,
        engine: InferenceEngine,
        observer: LookupObserver = lambda model, expressions: lambda seconds: None,
    ) -> None:
        self._specs_dir = specs_dir
        self._groups = groups
        self._store = store
        self._engine = engine
        self._observer = observer
        self._predictors: dict[str, ModelPredictor] = {}
        self._lock = threading.Lock()

    def predictor(self, name: str) -> ModelPredictor:
        """The model's predictor; UnknownModel (404) if it is not declared, a set-up error if its YAML is wrong."""
        found = self._predictors.get(name)
        if found is not None:
            return found
        with self._lock:
            found = self._predictors.get(name)
            if found is None:
                model = load_model(name, self._groups, self._specs_dir)
                expressions = tuple(f"@{g}:{f}" for g, fs in model.feature_set.stored_groups().items() for f in fs)
                observe = self._observer(name, expressions)
                found = ModelPredictor(model, self._store, self._engine, observe_lookup=observe)
                self._predictors = {**self._predictors, name: found}
        return found

    def declared(self, name: str) -> ModelPredictor | None:
        """The predictor, or None when ``name`` is not declared (a deployment without that model)."""
        try:
            return self.predictor(name)
        except UnknownModel:
            return None


class EtdEstimator:
    """``POST /v1/etd/estimate``: the ETD order as an instance of the declared model ``etd``."""

    def __init__(self, predictor: Callable[[], ModelPredictor]) -> None:
        self._predictor = predictor

    def estimate(self, order: OrderContext) -> Estimate:
        predictor = self._predictor()
        placed_at = aware(order.placed_at, predictor.model.spec.spine.time_zone, "placed_at")
        context = {"n_items": order.n_items, "subtotal": order.subtotal, "country_code": order.country_code,
                   "city_id": order.city_id}  # fmt: skip
        instance = ServingInstance({"restaurant_id": order.restaurant_id}, placed_at, context)
        served = predictor.predict_instances([instance], order.customer_id)[0]
        return Estimate(served.value, served.model, served.version, served.age_seconds, served.node)


def online_readiness(store: OnlineStore, groups: tuple[str, ...]) -> Callable[[], str | None]:
    """Readiness check: every group the model needs has a loaded online version."""

    def online_store_loaded() -> str | None:
        missing = [group for group in groups if store.current_version(group) is None]
        if missing:
            return f"online store has no version of {', '.join(missing)}: run build-features"
        return None

    return online_store_loaded
