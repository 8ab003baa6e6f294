"""Online serving of any declared model: entity keys + context -> online features -> the training expressions ->
the inference engine (through its routing: shadow, canary, node pins; it logs every prediction).

The online half of ``jobs/training_set.py``, row by row: the same TTL rule (never a row from the future, never one
older than its group's TTL), the same context functions (``domain/context.py``) and the same DSL
(``model_inputs``), so a model sees at serving time exactly what it was trained on. Text features travel as text
(the engine maps them to the categories it learnt). No pandas on this path: dicts and small numpy arrays.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from data_processing.domain.context import context_features
from data_processing.domain.expressions import model_inputs, nan_to_none
from data_processing.domain.feature_groups import FeatureGroup
from data_processing.domain.features import FeatureRef
from data_processing.domain.online import FeatureValue
from data_processing.models import DeclaredModel
from data_processing.ports import InferenceEngine, OnlineStore
from strata_kernel.contracts.prediction import NOMINAL_TIME_KEY
from strata_kernel.contracts.schema_check import Violation
from strata_kernel.contracts.serving import (
    FeatureRead,
    FeatureReadRequest,
    OnlinePredictRequest,
    OnlinePredictResponse,
    ServingInstance,
    instance_violations,
    parse_instance,
)
from strata_kernel.contracts.time_zones import NaiveTimeColumn, aware
from strata_kernel.errors import BadRequest, ConfigurationError

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Served:
    """One instance's answer, as the ETD estimate and the generic response both need it."""

    value: float
    model: str
    version: str
    age_seconds: float | None
    node: str | None
    route: str | None


class ModelPredictor:
    """The online path of one declared model."""

    def __init__(
        self,
        model: DeclaredModel,
        store: OnlineStore,
        engine: InferenceEngine,
        *,
        observe_lookup: Callable[[float], None] = lambda seconds: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.model = model
        self._spec = model.spec
        self._store = store
        self._engine = engine
        self._observe_lookup = observe_lookup
        self._clock = clock
        self._zone = ZoneInfo(self._spec.spine.time_zone or "UTC")
        self._by_entity: dict[str, list[FeatureGroup]] = {}
        for group in model.groups:
            self._by_entity.setdefault(group.entity, []).append(group)
        self._types = {f"{g.name}__{f.name}": f.type for g in model.groups for f in g.features}

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(group.name for group in self.model.groups)

    def predict(self, request: OnlinePredictRequest, routing_key: str | None = None) -> OnlinePredictResponse:
        now = self._clock()
        instances = [parse_instance(item, self._spec, index, now) for index, item in enumerate(request.instances)]
        served = self.predict_instances(instances, routing_key)
        first = served[0]
        return OnlinePredictResponse(
            model=first.model,
            version=first.version,
            predictions=[s.value for s in served],
            features_age_seconds=[s.age_seconds for s in served],
            nodes=[s.node for s in served] if any(s.node is not None for s in served) else None,
            route=first.route,
        )

    def request_violations(self, request: OnlinePredictRequest) -> set[Violation]:
        """Every field of the request's instances that breaks the declaration (for the schema monitor)."""
        return {found for item in request.instances for found in instance_violations(item, self._spec)}

    def predict_instances(self, instances: Sequence[ServingInstance], routing_key: str | None) -> list[Served]:
        rows = self.lookup(instances)
        vectors, ages = self.feature_vectors(instances, rows)
        for vector, instance in zip(vectors, instances, strict=True):
            # the partition keys let a partitioned model route to the deepest node (e.g. city -> country -> global)
            for column in self._spec.partition_by:
                value = instance.entities.get(column, instance.context.get(column))
                vector[column] = None if value is None else str(value)
            # which entity at which time: the skew monitor reads the offline value of the same (models ignore it)
            for key, ident in instance.entities.items():
                vector.setdefault(key, ident)
            vector[NOMINAL_TIME_KEY] = instance.time.astimezone(UTC).isoformat()
        predictions = self._engine.predict(self._spec.name, vectors, routing_key)
        return [Served(p.value, p.model, p.version, age, p.node, p.route)
                for p, age in zip(predictions, ages, strict=True)]  # fmt: skip

    def lookup(self, instances: Sequence[ServingInstance]) -> dict[str, list[Row | None]]:
        """Per stored group, the online row of each instance's entity (one store call per entity kind)."""
        started = time.perf_counter()
        found: dict[str, list[Row | None]] = {}
        for entity, groups in self._by_entity.items():
            names = [g.name for g in groups]
            ids = [instance.entities[entity] for instance in instances]
            if len(set(ids)) == 1:
                one = self._store.get_many(names, ids[0])
                rows = {ids[0]: one}
            else:
                rows = self._store.get_many_entities(names, list(dict.fromkeys(ids)))
            for name in names:
                found[name] = [rows[i].get(name) for i in ids]
        self._observe_lookup(time.perf_counter() - started)
        return found

    def feature_vectors(
        self, instances: Sequence[ServingInstance], rows: Mapping[str, Sequence[Row | None]]
    ) -> tuple[list[dict[str, FeatureValue]], list[float | None]]:
        """The model's inputs per instance, and the age of the oldest group row each one uses (None if none)."""
        feature_set = self.model.feature_set
        local = np.array(
            [i.time.astimezone(self._zone).replace(tzinfo=None) for i in instances], dtype="datetime64[us]"
        )
        values = {f.name: np.array([i.context[f.name] for i in instances], dtype=object) for f in self._spec.context}
        context = context_features(feature_set.context, self._spec.context, local, values)
        usable = {group.name: [usable_row(group, row, i.time) for row, i in zip(rows[group.name], instances,
                                                                                 strict=True)]
                  for group in self.model.groups}  # fmt: skip
        fetched: dict[str, Any] = {}
        for ref in feature_set.required_refs:
            if ref.group == feature_set.context:
                fetched[ref.column] = context[ref.column]
                continue
            raw = [None if row is None else row.get(ref.feature) for row in usable[ref.group]]
            fetched[ref.column] = _column(raw, self._types.get(ref.column, "float64"))
        inputs = model_inputs(feature_set, fetched)
        columns = {name: nan_to_none(column) for name, column in inputs.items()}
        vectors = [{name: column[i] for name, column in columns.items()} for i in range(len(instances))]
        return vectors, [self._oldest(usable, index, instances[index].time) for index in range(len(instances))]

    @staticmethod
    def _oldest(usable: Mapping[str, Sequence[Row | None]], index: int, at: datetime) -> float | None:
        used = [row["_instant"] for rows in usable.values() if (row := rows[index]) is not None]
        return max(_elapsed(at, instant).total_seconds() for instant in used) if used else None


def usable_row(group: FeatureGroup, row: Row | None, at: datetime) -> Row | None:
    """The training join's rule: never a row from the future, never one older than the group's TTL.

    The row comes back with ``_instant``: its feature time as an instant (read in the group's declared zone).
    """
    if row is None or row.get("feature_time") is None:
        return None
    try:
        instant = aware(row["feature_time"], group.time_zone, f"{group.table}.feature_time")
    except NaiveTimeColumn as exc:  # the group's YAML must say which zone its times are in: a set-up error
        raise ConfigurationError(f"feature group {group.name}: {exc.message}") from None
    age = _elapsed(at, instant)
    return {**row, "_instant": instant} if timedelta(0) <= age <= group.ttl else None


def _elapsed(at: datetime, since: datetime) -> timedelta:
    """Real time between two instants. Python subtracts two datetimes of the same zone object on their wall clocks
    (an hour off across a DST change: a fresh row expired, a stale one kept); in UTC it is the instants' difference."""
    return at.astimezone(UTC) - since.astimezone(UTC)


def read_features(
    store: OnlineStore,
    request: FeatureReadRequest,
    groups: Callable[[str], FeatureGroup],
    clock: Callable[[], datetime],
) -> FeatureRead:
    """``GET /v1/features``: named features of one entity per kind, by the serving TTL rule at ``at``."""
    try:
        refs = [FeatureRef.parse(expression) for expression in request.features]
    except ValueError as exc:
        raise BadRequest(str(exc), field="features") from None
    by_group = {ref.group: groups(ref.group) for ref in refs}
    for ref in refs:
        if ref.feature not in by_group[ref.group].feature_names:
            raise BadRequest(f"{ref.expression}: group {ref.group!r} has no feature {ref.feature!r}", field="features")
    at = request.at or clock()
    entities = _entity_ids(request.entities, by_group.values())
    rows: dict[str, Row | None] = {}
    for kind, ident in entities.items():
        names = [name for name, group in by_group.items() if group.entity == kind]
        found = store.get_many(names, ident)
        rows.update({name: usable_row(by_group[name], found.get(name), at) for name in names})
    values = {ref.expression: None if rows[ref.group] is None else rows[ref.group].get(ref.feature) for ref in refs}  # type: ignore[union-attr]
    times = {name: None if row is None else row["_instant"].isoformat() for name, row in rows.items()}
    return FeatureRead(entities, values, times, at)


def _entity_ids(given: Mapping[str, str], groups: Any) -> dict[str, str]:
    kinds = sorted({group.entity for group in groups})
    if set(given) == {""}:
        if len(kinds) != 1:
            raise BadRequest(f"entity: these features are keyed by {', '.join(kinds)}: send one entity=<key>:<id> "
                             "per kind", field="entity")  # fmt: skip
        return {kinds[0]: given[""]}
    missing = [kind for kind in kinds if kind not in given]
    if missing:
        raise BadRequest(f"entity: no id for {', '.join(missing)} (send entity={missing[0]}:<id>)", field="entity")
    return {kind: given[kind] for kind in kinds}


def _column(values: list[Any], kind: str) -> np.ndarray:
    if kind == "string":  # categorical: kept as text (the engine maps it to the categories it learnt)
        return np.array([None if v is None else str(v) for v in values], dtype=object)
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)  # bool: 0/1, as trained
