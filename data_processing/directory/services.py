"""Use cases of the feature directory over its port: register, deprecate, describe, record reads."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from data_processing.directory.ports import FeatureDirectory
from data_processing.domain.feature_code import analyse
from data_processing.domain.feature_groups import parse_feature_group
from data_processing.domain.features import FeatureRef, FeatureSet
from data_processing.domain.registry_rules import (
    DEPRECATED,
    FeatureUsage,
    Freshness,
    GroupEntry,
    RegisteredFeature,
    RegistrationPlan,
    RegistrationRefused,
    UnknownFeature,
    deprecation_warning,
    plan_registration,
)
from data_processing.errors import InvalidFeatureGroup, UnknownFeatureGroup
from data_processing.registry import ENTITIES_FILE  # the declared entities, next to the groups
from strata_kernel.errors import BadRequest
from strata_kernel.safe_yaml import load_untrusted

log = logging.getLogger(__name__)

#: the origin of a group registered from a request body (untrusted text)
BODY = "body"
#: a group's code is a few kB; anything far larger is not one
MAX_CODE_CHARS = 128 * 1024


def load_entities(groups_dir: Path) -> frozenset[str]:
    """``entities: [{name, description}]`` from ``<groups_dir>/entities.yaml`` (none declared if absent)."""
    path = groups_dir / ENTITIES_FILE
    if not path.is_file():
        return frozenset()
    data = yaml.safe_load(path.read_text()) or {}
    return frozenset(str(item["name"]) for item in data.get("entities", []) if isinstance(item, dict))


def register_group(
    directory: FeatureDirectory,
    yaml_text: str,
    code_text: str | None,
    entities: Iterable[str],
    *,
    origin: str,
    now: datetime,
) -> RegistrationPlan:
    """Validate a group (YAML + code) and store it; refusals are 400 / 409 and store nothing."""
    try:
        group = parse_feature_group(_yaml_mapping(yaml_text, origin), origin)
    except InvalidFeatureGroup as exc:  # a configuration error when loading, bad input when registering
        raise RegistrationRefused(exc.message, field=exc.field) from exc
    if code_text is None or not code_text.strip():
        raise RegistrationRefused(f"{origin}: the code of group {group.name!r} ({group.code}) is missing", field="code")
    if len(code_text) > MAX_CODE_CHARS:
        raise RegistrationRefused(f"{origin}: the code is longer than {MAX_CODE_CHARS} characters", field="code")
    try:
        facts = analyse(group.code, code_text, group.feature_names)
    except SyntaxError as exc:
        raise RegistrationRefused(f"{origin}: {group.code} line {exc.lineno}: {exc.msg}", field="code") from exc
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting: not a group's code
        raise RegistrationRefused(f"{origin}: {group.code} cannot be analysed ({type(exc).__name__})",
                                  field="code") from exc  # fmt: skip
    known = directory.group(group.name)
    registered = {feature.name: feature for feature in directory.features(group.name)}
    plan = plan_registration(group, facts, entities, registered, known.entity if known else None, origin)
    directory.save_registration(plan, now)
    return plan


def register_group_file(directory: FeatureDirectory, yaml_path: Path, *, now: datetime) -> RegistrationPlan:
    """Register ``<name>.yaml`` with the code file it names, next to it."""
    if not yaml_path.is_file():  # the name only: an error body never shows a server path
        raise RegistrationRefused(f"{yaml_path.name}: no such feature group file", field="path")
    yaml_text = yaml_path.read_text()
    code_name = _yaml_mapping(yaml_text, yaml_path.name).get("code")
    code_path = yaml_path.parent / str(code_name) if code_name else None
    code_text = code_path.read_text() if code_path is not None and code_path.is_file() else None
    entities = load_entities(yaml_path.parent)
    return register_group(directory, yaml_text, code_text, entities, origin=yaml_path.name, now=now)


def register_all(directory: FeatureDirectory, groups_dir: Path, *, now: datetime) -> list[RegistrationPlan]:
    """Every group under ``groups_dir``; the first refusal stops (earlier groups stay registered)."""
    paths = sorted(p for p in groups_dir.glob("*.yaml") if p.name != ENTITIES_FILE)
    return [register_group_file(directory, path, now=now) for path in paths]


def registration_summary(plan: RegistrationPlan) -> dict[str, Any]:
    return {
        "group": plan.group.name,
        "registered": [f.name for f in plan.new_features],
        "unchanged": list(plan.unchanged),
    }


def deprecate_feature(directory: FeatureDirectory, expression: str, reason: str, *, now: datetime) -> dict[str, Any]:
    """Mark ``@group:feature`` deprecated; every consumer known from usage is warned (logged and returned)."""
    ref = parse_expression(expression)
    if not reason.strip():
        raise BadRequest("a deprecation needs a reason", field="reason")
    feature = directory.deprecate(ref.group, ref.feature, reason.strip(), now)
    if feature is None:
        raise UnknownFeature(f"feature {ref.expression} is not registered", field="feature")
    users = [usage.consumer for usage in directory.usage(ref.group, ref.feature)]
    for consumer in users:
        log.warning("%s", deprecation_warning(feature, consumer))
    return {"feature": feature.expression, "status": feature.status, "reason": feature.deprecation_reason,
            "warned": users}  # fmt: skip


def deprecation_warnings(directory: FeatureDirectory, expressions: Iterable[str], consumer: str) -> list[str]:
    """One warning per deprecated feature among ``expressions`` (those of a model or a job)."""
    wanted: dict[str, set[str]] = {}
    for ref in (FeatureRef.parse(e) for e in expressions):
        wanted.setdefault(ref.group, set()).add(ref.feature)
    return [
        deprecation_warning(feature, consumer)
        for group, names in wanted.items()
        for feature in directory.features(group)
        if feature.name in names and feature.status == DEPRECATED
    ]


def record_reads(
    directory: FeatureDirectory, consumer: str, expressions: Iterable[str], count: int, at: datetime
) -> None:
    """``count`` reads of each stored feature among ``expressions`` by ``consumer``."""
    directory.add_usage(usage_rows(consumer, expressions, count, at))


def stored_expressions(feature_set: FeatureSet) -> tuple[str, ...]:
    """The features a model reads from stored groups (what its usage is recorded against)."""
    return tuple(f"@{group}:{name}" for group, names in feature_set.stored_groups().items() for name in names)


def usage_rows(consumer: str, expressions: Iterable[str], count: int, at: datetime) -> list[FeatureUsage]:
    """Usage rows of ``expressions``: stored features only (``stored_expressions``; context ones are computed)."""
    refs = [FeatureRef.parse(e) for e in expressions]
    return [FeatureUsage(ref.group, ref.feature, consumer, count, at) for ref in refs]


# -- reads for the REST API --------------------------------------------------------------------------------------
def parse_expression(expression: str) -> FeatureRef:
    try:
        return FeatureRef.parse(expression)
    except ValueError as exc:
        raise BadRequest(str(exc), field="feature") from exc


#: a group's freshness (data_processing.freshness.GroupFreshness.of): the one definition page, API and metric share
FreshnessOf = Callable[[GroupEntry], Freshness]
#: the zone a group declares its feature times' wall clock in (``time_zone``), None if none
ZoneOf = Callable[[str], str | None]


def list_groups(
    directory: FeatureDirectory, text: str, fresh: FreshnessOf, zone_of: ZoneOf = lambda _group: None
) -> list[dict[str, Any]]:
    return [_group_summary(directory, entry, fresh, zone_of) for entry in directory.groups(text.strip())]


def describe_group(
    directory: FeatureDirectory, name: str, fresh: FreshnessOf, zone_of: ZoneOf = lambda _group: None
) -> dict[str, Any]:
    entry = directory.group(name)
    if entry is None:
        raise UnknownFeatureGroup(f"feature group {name!r} is not registered", field="name")
    usage = directory.usage(name)
    features = [
        {**_feature_body(feature), "users": [_usage_body(u) for u in usage if u.feature == feature.name]}
        for feature in directory.features(name)
    ]
    users = sorted({u.consumer for u in usage})
    return {**_group_summary(directory, entry, fresh, zone_of, features=features), "users": users}


def describe_feature(directory: FeatureDirectory, expression: str) -> dict[str, Any]:
    ref = parse_expression(expression)
    found = next((f for f in directory.features(ref.group) if f.name == ref.feature), None)
    if found is None:
        raise UnknownFeature(f"feature {ref.expression} is not registered", field="feature")
    return {**_feature_body(found), "users": [_usage_body(u) for u in directory.usage(ref.group, ref.feature)]}


def _group_summary(
    directory: FeatureDirectory,
    entry: GroupEntry,
    fresh_of: FreshnessOf,
    zone_of: ZoneOf,
    *,
    features: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    fresh = fresh_of(entry)
    body: dict[str, Any] = {
        "name": entry.name,
        "entity": entry.entity,
        "owner": entry.owner,
        "description": entry.description,
        "source": entry.source,
        "table": entry.table,
        "code": entry.code,
        "nominal_time": entry.nominal_time,
        # readers of the offline table (a point-in-time read) need it: its naive times are this zone's wall clock
        "time_zone": zone_of(entry.name),
        "ttl_seconds": entry.ttl.total_seconds(),
        "schedule": entry.schedule,
        "registered_at": entry.registered_at.isoformat(),
        "updated_at": entry.updated_at.isoformat(),
        "freshness": {
            "newest_nominal_time": fresh.newest_nominal_time.isoformat() if fresh.newest_nominal_time else None,
            "age_seconds": fresh.age_seconds,
            "slo_seconds": fresh.slo_seconds,
            "status": fresh.status,
        },
    }
    if features is None:
        body["n_features"] = len(directory.features(entry.name))
    else:
        body["features"] = features
    return body


def _feature_body(feature: RegisteredFeature) -> dict[str, Any]:
    return {
        "expression": feature.expression,
        "group": feature.group,
        "name": feature.name,
        "type": feature.type,
        "description": feature.description,
        "status": feature.status,
        "deprecation_reason": feature.deprecation_reason,
        "code_hash": feature.code_hash,
    }


def _usage_body(usage: FeatureUsage) -> dict[str, Any]:
    return {"consumer": usage.consumer, "count": usage.count, "last_used": usage.last_used.isoformat()}


def _yaml_mapping(text: str, origin: str) -> dict[str, Any]:
    """The group's YAML. From a request body (``origin == "body"``): without aliases and within size and depth
    limits (strata_kernel.safe_yaml); from a file of the service's own groups directory: as written."""
    try:
        data = load_untrusted(text, field="yaml") if origin == BODY else yaml.safe_load(text)
    except BadRequest as exc:
        raise RegistrationRefused(f"{origin}: {exc.message.removeprefix('yaml: ')}", field="yaml") from exc
    except yaml.YAMLError as exc:
        raise RegistrationRefused(f"{origin}: not valid YAML ({str(exc).splitlines()[0]})", field="yaml") from exc
    if not isinstance(data, dict):
        raise RegistrationRefused(f"{origin}: a feature group must be a mapping of fields", field="yaml")
    return data
