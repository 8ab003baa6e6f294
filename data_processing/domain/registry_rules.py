"""Rules of the feature directory: what a registration may store, and how fresh a group's data is.

A group registers with its YAML metadata and its code. It is refused (400, naming the field) for an
unknown entity, a duplicate feature, a declared type its code cannot produce, or missing code. Once a
feature is registered its meaning is fixed: registering the same ``@group:feature`` with another code
hash or type is a 409 naming the feature — a changed feature needs a new name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from data_processing.domain.feature_code import CodeFacts
from data_processing.domain.feature_groups import FeatureGroup
from strata_kernel.errors import BadRequest, Conflict, NotFound

ACTIVE, DEPRECATED = "active", "deprecated"
FRESH, STALE, UNKNOWN = "fresh", "stale", "unknown"


class RegistrationRefused(BadRequest):
    code = "registration_refused"


class FeatureSemanticsChanged(Conflict):
    code = "feature_semantics_changed"


class UnknownFeature(NotFound):
    code = "unknown_feature"


@dataclass(frozen=True)
class RegisteredFeature:
    group: str
    name: str
    type: str
    description: str
    code_hash: str
    status: str = ACTIVE
    deprecation_reason: str | None = None
    deprecated_at: datetime | None = None

    @property
    def expression(self) -> str:
        return f"@{self.group}:{self.name}"


@dataclass(frozen=True)
class GroupEntry:
    """A registered group as the directory keeps it (metadata + data availability)."""

    name: str
    entity: str
    owner: str
    description: str
    source: str
    table: str
    code: str
    nominal_time: str
    ttl: timedelta
    schedule: str
    freshness_slo: timedelta
    registered_at: datetime
    updated_at: datetime
    newest_nominal_time: datetime | None = None


@dataclass(frozen=True)
class FeatureUsage:
    group: str
    feature: str
    consumer: str  # "model:etd", "job:training-set etd"
    count: int
    last_used: datetime


@dataclass(frozen=True)
class RegistrationPlan:
    group: FeatureGroup
    new_features: tuple[RegisteredFeature, ...]
    unchanged: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> bool:
        return bool(self.new_features)


@dataclass(frozen=True)
class Freshness:
    newest_nominal_time: datetime | None
    age_seconds: float | None
    slo_seconds: float
    status: str  # fresh | stale | unknown (no data yet)


def check_entity(group: FeatureGroup, entities: Iterable[str], origin: str) -> None:
    known = sorted(entities)
    if group.entity not in known:
        raise RegistrationRefused(
            f"{origin}: unknown entity {group.entity!r} (declared entities: {', '.join(known) or 'none'})",
            field="entity",
        )


def type_compatible(declared: str, produced: str) -> bool:
    """Same kind, or an integer where a float is declared (widening loses nothing a feature needs)."""
    return declared == produced or (declared == "float64" and produced == "int64")


def check_output_types(group: FeatureGroup, produced: Mapping[str, str | None], origin: str) -> None:
    """Declared vs produced type of each feature whose produced type is known."""
    for index, spec in enumerate(group.features):
        kind = produced.get(spec.name)
        if spec.name in produced and (kind is None or not type_compatible(spec.type, kind)):
            raise RegistrationRefused(
                f"{origin}: feature {spec.name!r} is declared {spec.type} "
                f"but its code produces {kind or 'a type no feature can have'}",
                field=f"features.{index}.type",
            )


def plan_registration(
    group: FeatureGroup,
    facts: CodeFacts,
    entities: Iterable[str],
    registered: Mapping[str, RegisteredFeature],
    registered_entity: str | None,
    origin: str,
) -> RegistrationPlan:
    """Validate a group against its code and what the directory holds; return what to store."""
    check_entity(group, entities, origin)
    if not facts.defines_compute:
        raise RegistrationRefused(f"{origin}: {group.code} defines no compute(source, as_of=None)", field="code")
    check_output_types(group, facts.output_types, origin)
    if registered_entity is not None and registered_entity != group.entity:
        raise FeatureSemanticsChanged(
            f"{origin}: group {group.name!r} is keyed by {registered_entity!r}; its entity cannot change "
            "(register a new group)",
            field="entity",
        )
    new, unchanged = [], []
    for spec in group.features:
        code_hash = facts.feature_hashes[spec.name]
        candidate = RegisteredFeature(group.name, spec.name, spec.type, spec.description, code_hash)
        known = registered.get(spec.name)
        if known is None:
            new.append(candidate)
            continue
        _refuse_changed_semantics(known, candidate)
        unchanged.append(spec.name)
    return RegistrationPlan(group, tuple(new), tuple(unchanged))


def _refuse_changed_semantics(known: RegisteredFeature, candidate: RegisteredFeature) -> None:
    if known.type != candidate.type:
        what = f"type ({known.type} -> {candidate.type})"
    elif known.code_hash != candidate.code_hash:
        what = f"code (hash {known.code_hash[:12]}… -> {candidate.code_hash[:12]}…)"
    else:
        return
    raise FeatureSemanticsChanged(
        f"feature {known.expression} is already registered; its {what} cannot change under the same name: "
        "give the changed feature a new name",
        field=known.expression,
    )


def freshness(newest: datetime | None, slo: timedelta, now: datetime) -> Freshness:
    """How old a group's newest values are, against its freshness SLO."""
    if newest is None:
        return Freshness(None, None, slo.total_seconds(), UNKNOWN)
    age = (now - newest).total_seconds()
    return Freshness(newest, age, slo.total_seconds(), FRESH if age <= slo.total_seconds() else STALE)


def deprecation_warning(feature: RegisteredFeature, consumer: str | None = None) -> str:
    user = f" (used by {consumer})" if consumer else ""
    return f"feature {feature.expression} is deprecated{user}: {feature.deprecation_reason or 'no reason given'}"
