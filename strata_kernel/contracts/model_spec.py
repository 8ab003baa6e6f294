"""A model is a declaration: ``model_specs/<name>.yaml``, read by data_processing and the inference engine alike.

One file says everything a team decides about a model, and nothing about how Strata computes it:

* the **spine** — a lake table or a read-only query over lake tables — with its row ``id``, its nominal ``time``
  column, the ``time_zone`` of that column's wall-clock values (required when they are stored without one) and
  its ``burn_in`` (the first N days of the spine's nominal time are never trained on: windowed features are still
  filling there, which no served request sees);
* the **entities** the features are looked up by (each feature group's entity must be one of them) and the
  **context** a caller sends at serving time (typed fields; ``hour_of_day`` / ``day_of_week`` of the nominal time,
  in its zone, come free), under a name (``@order:n_items``);
* the **label** (a spine column), the **features** (canonical ``@group:feature`` expressions) and the **derived**
  ones (the row DSL); text features are categorical and stay text;
* the **hold-out** window (the last N days of nominal time are never trained on), the **partitioning**
  (global -> level 1 -> level 2 ..., with fallback), the **algorithm**, its **metric** and **hyperparameters**, and
  the naive **baseline** reported beside the model (the label's mean per node of the tree by default), and how
  **monitoring** slices the model's reference profile (``slice_by``, ``calendar_features``).

This module parses and checks the structure (pure standard library: every deployable reads it). What needs a
deployable's knowledge is checked there: data_processing that every feature exists and the DSL parses, the
inference engine that the algorithm and metric exist. Errors name the file and the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from strata_kernel.contracts.time_zones import InvalidTimeColumn, check_zone
from strata_kernel.errors import ConfigurationError

SPEC_VERSION = 2
#: value types of context fields (the feature groups' types): ``string`` and ``bool`` features are categorical
FIELD_TYPES = frozenset({"int64", "float64", "string", "bool"})
#: context features computed from the nominal time, in the spine's zone
TIME_FEATURES = ("hour_of_day", "day_of_week")
CLASSIFIERS = frozenset({"xgboost_classifier", "logistic_regression"})
LABEL_COLUMN = "label"  # the label's column in a training set
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_TABLE = re.compile(r"^(raw|processed|features)\.[a-z][a-z0-9_]{0,62}$")
_DAYS = re.compile(r"^(\d+)d$")
_FIELDS = frozenset({
    "name", "description", "owner", "spine", "entities", "context", "label", "features", "derived", "holdout",
    "partitioning", "algorithm", "metric", "hyperparameters", "baseline", "monitoring",
})  # fmt: skip


class InvalidModelSpec(ConfigurationError):
    """A model declaration that cannot work; the message names the file and the field."""

    code = "invalid_model_spec"


@dataclass(frozen=True)
class Spine:
    """The rows a model learns from: one per prediction it would have made."""

    table: str | None
    query: str | None
    id: str
    time: str
    time_zone: str | None
    #: the first N days (from the spine's earliest nominal time) the training set leaves out
    burn_in_days: int = 0

    @property
    def tables(self) -> tuple[str, ...]:
        """The lake tables the spine reads (a query's are found by name: ``<zone>.<table>``)."""
        if self.table is not None:
            return (self.table,)
        return tuple(dict.fromkeys(re.findall(r"\b(?:raw|processed|features)\.[a-z][a-z0-9_]*\b", self.query or "")))


@dataclass(frozen=True)
class ContextField:
    name: str
    type: str

    @property
    def categorical(self) -> bool:
        return self.type in {"string", "bool"}


@dataclass(frozen=True)
class Partitioning:
    by: tuple[str, ...]
    min_rows: int = 200
    min_improvement: float = 0.0
    min_validation_rows: int = 0


@dataclass(frozen=True)
class ModelSpec:
    name: str
    spine: Spine
    entities: tuple[str, ...]
    label: str
    features: tuple[str, ...]
    algorithm: str
    metric: str
    holdout_days: int = 7
    context_name: str = "context"
    context: tuple[ContextField, ...] = ()
    derived: tuple[Mapping[str, Any], ...] = ()
    partitioning: Partitioning | None = None
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    #: the baseline's grouping column; None = the mean of the tree node that answers (global when not partitioned)
    baseline_mean_by: str | None = None
    #: how monitors compare live traffic with the model's reference profile (read by the inference engine)
    monitoring: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    owner: str = ""

    @property
    def task(self) -> str:
        return task_of(self.algorithm)

    @property
    def training_table(self) -> str:
        return f"processed.{self.name}_training_set"

    @property
    def partition_by(self) -> tuple[str, ...]:
        return self.partitioning.by if self.partitioning is not None else ()

    @property
    def context_fields(self) -> dict[str, ContextField]:
        return {f.name: f for f in self.context}

    def request_columns(self) -> tuple[str, ...]:
        """What a serving request carries besides features: entity keys, the nominal time, context fields."""
        return (*self.entities, self.spine.time, *(f.name for f in self.context))

    @classmethod
    def from_mapping(cls, data: Any, origin: str) -> ModelSpec:
        """Check a parsed YAML (or JSON) declaration; InvalidModelSpec names ``origin`` and the field."""
        if not isinstance(data, Mapping):
            raise InvalidModelSpec(f"{origin}: must be a mapping of fields")
        unknown = sorted(set(data) - _FIELDS)
        if unknown:
            raise InvalidModelSpec(f"{origin}: unknown field(s) {', '.join(unknown)}", field=unknown[0])
        spec = _Reader(data, origin)
        name = spec.name("name")
        partitioning = spec.partitioning()
        context_name, context = spec.context()
        model = cls(
            name=name,
            spine=spec.spine(),
            entities=spec.names("entities"),
            label=spec.name("label"),
            features=spec.features(),
            algorithm=spec.name("algorithm"),
            metric=spec.name("metric"),
            holdout_days=spec.holdout(),
            context_name=context_name,
            context=context,
            derived=spec.derived(),
            partitioning=partitioning,
            hyperparameters=spec.mapping("hyperparameters"),
            baseline_mean_by=spec.baseline(),
            monitoring=spec.mapping("monitoring"),
            description=str(data.get("description") or ""),
            owner=str(data.get("owner") or ""),
        )
        _check_columns(model, origin)
        return model


def task_of(algorithm: str) -> str:
    """``classification`` for a classifier (a probability of the positive class), else ``regression``."""
    return "classification" if algorithm in CLASSIFIERS else "regression"


class _Reader:
    """Field readers with one error shape: ``<origin>: <field>: <why>``."""

    def __init__(self, data: Mapping[str, Any], origin: str) -> None:
        self.data = data
        self.origin = origin

    def fail(self, where: str, why: str) -> InvalidModelSpec:
        return InvalidModelSpec(f"{self.origin}: {where}: {why}", field=where)

    def name(self, key: str, value: Any = None, where: str | None = None) -> str:
        value = self.data.get(key) if value is None else value
        where = where or key
        if value is None:
            raise self.fail(where, "missing")
        if not isinstance(value, str) or not _NAME.match(value):
            raise self.fail(where, f"{value!r} must be a lowercase identifier (a-z, 0-9, _)")
        return value

    def names(self, key: str) -> tuple[str, ...]:
        items = self.data.get(key)
        if not isinstance(items, list) or not items:
            raise self.fail(key, "must be a non-empty list of column names")
        names = tuple(self.name(key, item, f"{key}.{i}") for i, item in enumerate(items))
        if len(set(names)) != len(names):
            raise self.fail(key, "a column is listed twice")
        return names

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.data.get(key) or {}
        if not isinstance(value, Mapping):
            raise self.fail(key, "must be a mapping")
        return dict(value)

    def spine(self) -> Spine:
        spine = self.data.get("spine")
        if not isinstance(spine, Mapping):
            raise self.fail("spine", "missing: {table: <zone>.<name> | query: SELECT ..., id, time, time_zone}")
        table, query = spine.get("table"), spine.get("query")
        if (table is None) == (query is None):
            raise self.fail("spine", "give exactly one of table or query")
        if table is not None and (not isinstance(table, str) or not _TABLE.match(table)):
            raise self.fail("spine.table", f"{table!r} must be '<zone>.<name>' (zones raw, processed, features)")
        if query is not None and (not isinstance(query, str) or not query.strip()):
            raise self.fail("spine.query", "must be one SELECT over lake tables")
        zone = spine.get("time_zone")
        if zone is not None:
            try:
                check_zone(zone, "spine.time_zone")
            except InvalidTimeColumn as exc:
                raise self.fail("spine.time_zone", exc.message.split(": ", 1)[-1]) from None
        return Spine(table, query, self.name("id", spine.get("id"), "spine.id"),
                     self.name("time", spine.get("time"), "spine.time"), zone,
                     self.days(spine.get("burn_in", "0d"), "spine.burn_in", least=0))  # fmt: skip

    def context(self) -> tuple[str, tuple[ContextField, ...]]:
        context = self.data.get("context") or {}
        if not isinstance(context, Mapping):
            raise self.fail("context", "must be a mapping {name, fields: {<field>: <type>}}")
        name = self.name("name", context.get("name", "context"), "context.name")
        fields = context.get("fields") or {}
        if not isinstance(fields, Mapping):
            raise self.fail("context.fields", "must map field names to types")
        parsed = []
        for key, kind in fields.items():
            where = f"context.fields.{key}"
            if kind not in FIELD_TYPES:
                raise self.fail(where, f"type {kind!r} is not one of {', '.join(sorted(FIELD_TYPES))}")
            if key in TIME_FEATURES:
                raise self.fail(where, f"{key} is computed from the nominal time; do not declare it")
            parsed.append(ContextField(self.name(where, key, where), str(kind)))
        return name, tuple(parsed)

    def features(self) -> tuple[str, ...]:
        items = self.data.get("features")
        if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
            raise self.fail("features", "must be a non-empty list of '@group:feature' expressions")
        return tuple(items)

    def derived(self) -> tuple[Mapping[str, Any], ...]:
        items = self.data.get("derived") or []
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise self.fail("derived", "must be a list of {name, expression}")
        return tuple(dict(item) for item in items)

    def holdout(self) -> int:
        return self.days(self.data.get("holdout", "7d"), "holdout", least=1)

    def days(self, value: Any, where: str, *, least: int) -> int:
        match = _DAYS.match(str(value).strip())
        if match is None or int(match.group(1)) < least:
            raise self.fail(where, f"{value!r} must be a number of whole days like '7d'")
        return int(match.group(1))

    def partitioning(self) -> Partitioning | None:
        value = self.data.get("partitioning")
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail("partitioning", "must be a mapping {by: [level1, level2, ...], min_rows, ...}")
        by = value.get("by")
        if not isinstance(by, list) or not by:
            raise self.fail("partitioning.by", "must list the hierarchy's columns, top level first")
        levels = tuple(self.name("by", item, f"partitioning.by.{i}") for i, item in enumerate(by))
        min_rows = value.get("min_rows", 200)
        if isinstance(min_rows, bool) or not isinstance(min_rows, int) or min_rows < 2:
            raise self.fail("partitioning.min_rows", "must be an integer >= 2")
        improvement = value.get("min_improvement", 0.0)
        if isinstance(improvement, bool) or not isinstance(improvement, int | float) or not 0 <= improvement < 1:
            raise self.fail("partitioning.min_improvement", "must be a number in [0, 1)")
        valid_rows = value.get("min_validation_rows", 0)
        if isinstance(valid_rows, bool) or not isinstance(valid_rows, int) or valid_rows < 0:
            raise self.fail("partitioning.min_validation_rows", "must be an integer >= 0")
        return Partitioning(levels, min_rows, float(improvement), valid_rows)

    def baseline(self) -> str | None:
        value = self.data.get("baseline") or {}
        if not isinstance(value, Mapping) or set(value) - {"mean_by"}:
            raise self.fail("baseline", "must be {mean_by: <column>} or absent (the mean of the answering node)")
        by = value.get("mean_by")
        return None if by is None else self.name("mean_by", by, "baseline.mean_by")


def _check_columns(spec: ModelSpec, origin: str) -> None:
    """Rules between fields: serving must be able to send what partitions and identifies a request."""
    available = set(spec.entities) | {f.name for f in spec.context}
    for index, column in enumerate(spec.partition_by):
        if column not in available:
            raise InvalidModelSpec(
                f"{origin}: partitioning.by.{index}: {column!r} must be an entity or a context field (a serving "
                "request must carry it to be routed)",
                field=f"partitioning.by.{index}",
            )
    clashes = set(spec.entities) & {f.name for f in spec.context}
    if clashes or spec.spine.time in available:
        raise InvalidModelSpec(f"{origin}: entities, context fields and spine.time must be distinct columns "
                               f"({', '.join(sorted(clashes or {spec.spine.time}))})", field="context")  # fmt: skip
    if spec.label in available or spec.label == spec.spine.time:
        raise InvalidModelSpec(f"{origin}: label: {spec.label!r} cannot also be a request column", field="label")
