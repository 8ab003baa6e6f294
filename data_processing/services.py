"""Use cases of the ETD runtime over ports (no Flask, no HTTP, no pandas on the hot path)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from data_processing.domain.etd_features import order_context_features
from data_processing.domain.expressions import model_inputs, nan_to_none
from data_processing.domain.features import ORDER_GROUP, FeatureSet
from data_processing.domain.online import FeatureValue
from data_processing.domain.orders import OrderContext
from data_processing.ports import InferenceEngine, OnlineStore
from strata_kernel.contracts.etd import Estimate


class EtdEstimator:
    """Online half of the ETD feature pipeline: the same feature functions and TTL rule as the training set."""

    def __init__(
        self,
        online_store: OnlineStore,
        inference_engine: InferenceEngine,
        feature_set: FeatureSet,
        ttl_by_group: Mapping[str, timedelta],
        observe_lookup: Callable[[float], None] = lambda seconds: None,
    ) -> None:
        self._store = online_store
        self._engine = inference_engine
        self._feature_set = feature_set
        self._stored = feature_set.stored_groups()
        self._groups = tuple(self._stored)
        self._ttl = {group: ttl_by_group[group] for group in self._groups}
        self._observe_lookup = observe_lookup

    def estimate(self, order: OrderContext) -> Estimate:
        started = time.perf_counter()
        rows = self._store.get_many(self._groups, order.restaurant_id)
        self._observe_lookup(time.perf_counter() - started)
        instance, age = self.feature_vector(order, rows)
        # the partition keys let a partitioned model route to the deepest node (city -> country -> global)
        instance["country_code"] = order.country_code
        instance["city_id"] = order.city_id
        prediction = self._engine.predict(self._feature_set.model, [instance], order.customer_id)[0]
        return Estimate(prediction.value, prediction.model, prediction.version, age, prediction.node)

    def feature_vector(
        self, order: OrderContext, rows: Mapping[str, Mapping[str, Any] | None]
    ) -> tuple[dict[str, FeatureValue], float | None]:
        """The model's input for one order, and the age of the oldest group row it uses (None if none)."""
        computed = order_context_features(
            np.array([order.placed_at], dtype="datetime64[us]"), np.array([order.n_items]), np.array([order.subtotal])
        )
        fetched: dict[str, FeatureValue] = {}
        ages: list[float] = []
        for ref in self._feature_set.required_refs:
            if ref.group == ORDER_GROUP:
                fetched[ref.column] = float(computed[ref.column][0])
                continue
            row = self._usable(ref.group, rows.get(ref.group), order.placed_at)
            fetched[ref.column] = row.get(ref.feature) if row is not None else None
            if row is not None:
                ages.append((order.placed_at - row["feature_time"]).total_seconds())
        # derived features: the same DSL code as the training job, on columns of one row
        inputs = model_inputs(self._feature_set, {column: np.array([value]) for column, value in fetched.items()})
        instance = {column: nan_to_none(values)[0] for column, values in inputs.items()}
        return instance, (max(ages) if ages else None)

    def _usable(self, group: str, row: Mapping[str, Any] | None, placed_at: datetime) -> Mapping[str, Any] | None:
        """The training join's rule: never a row from the future, never one older than the group's TTL."""
        if row is None:
            return None
        age = placed_at - row["feature_time"]
        return row if timedelta(0) <= age <= self._ttl[group] else None


def online_readiness(store: OnlineStore, groups: tuple[str, ...]) -> Callable[[], str | None]:
    """Readiness check: every group the model needs has a loaded online version."""

    def online_store_loaded() -> str | None:
        missing = [group for group in groups if store.current_version(group) is None]
        if missing:
            return f"online store has no version of {', '.join(missing)}: run build-features"
        return None

    return online_store_loaded
