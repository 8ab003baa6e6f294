"""Feature group metadata (the YAML half of a group; the other half is its Spark code).

Michelangelo-style: a group has one entity key, a nominal-time column (``feature_time``) and the zone of its
clock (``time_zone``), a TTL (how long a row stays valid for point-in-time joins and serving), a schedule and a
freshness SLO. Its code is a Python module with ``compute(source, as_of=None)`` (Spark) or one Spark SQL query
(``.sql``) over the view ``source`` — a team adds a batch group with YAML and SQL, no Python.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from data_processing.errors import InvalidFeatureGroup
from strata_kernel.contracts.time_zones import InvalidTimeColumn, check_zone

FEATURE_TYPES = frozenset({"int64", "float64", "bool", "string"})
SCHEDULES = frozenset({"hourly", "daily", "weekly", "continuous"})  # continuous = streaming
#: "batch": Spark code run on a schedule; "streaming": a function applied to event-log topics as events arrive
KINDS = frozenset({"batch", "streaming"})
REQUIRED_FIELDS = (
    "name", "entity", "owner", "description", "source", "table", "code",
    "nominal_time", "time_zone", "ttl", "schedule", "freshness_slo", "features",
)  # fmt: skip
_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class FeatureGroup:
    name: str
    entity: str
    owner: str
    description: str
    source: str  # the lake table the code reads
    table: str  # the offline store table it writes
    code: str  # file name of the code, next to the YAML
    nominal_time: str
    ttl: timedelta
    schedule: str
    freshness_slo: timedelta
    features: tuple[FeatureSpec, ...]
    online: bool = True
    kind: str = "batch"
    topics: tuple[str, ...] = ()  # event-log topics a streaming group consumes
    #: the zone of the offline table's and the online rows' wall-clock times (``UTC``, ``Europe/Madrid``): the
    #: build job writes the nominal time on that clock, every reader (joins, serving) reads it there
    time_zone: str | None = None

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)


def parse_duration(text: Any, field: str) -> timedelta:
    """``"2d"``, ``"26h"``, ``"30m"``, ``"45s"``."""
    match = _DURATION.match(str(text).strip())
    if match is None or int(match.group(1)) == 0:
        raise InvalidFeatureGroup(f"{field}: {text!r} is not a duration like '2d', '26h' or '30m'", field=field)
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def parse_feature_group(data: Mapping[str, Any], origin: str) -> FeatureGroup:
    """Validate one group's metadata; errors name the file and the field."""
    missing = [f for f in REQUIRED_FIELDS if data.get(f) in (None, "", [])]
    if missing:
        raise InvalidFeatureGroup(f"{origin}: missing field(s) {', '.join(missing)}", field=missing[0])
    if data["schedule"] not in SCHEDULES:
        raise InvalidFeatureGroup(f"{origin}: schedule must be one of {sorted(SCHEDULES)}", field="schedule")
    return FeatureGroup(
        name=str(data["name"]),
        entity=str(data["entity"]),
        owner=str(data["owner"]),
        description=str(data["description"]),
        source=str(data["source"]),
        table=str(data["table"]),
        code=str(data["code"]),
        nominal_time=str(data["nominal_time"]),
        ttl=parse_duration(data["ttl"], f"{origin}: ttl"),
        schedule=str(data["schedule"]),
        freshness_slo=parse_duration(data["freshness_slo"], f"{origin}: freshness_slo"),
        features=_parse_features(data["features"], origin),
        online=bool(data.get("online", True)),
        time_zone=_parse_zone(data, origin),
        **_parse_kind(data, origin),
    )


def _parse_zone(data: Mapping[str, Any], origin: str) -> str | None:
    zone = data.get("time_zone")
    if zone is None:
        return None
    try:
        return check_zone(zone, "time_zone")
    except InvalidTimeColumn as exc:
        raise InvalidFeatureGroup(f"{origin}: {exc.message}", field="time_zone") from None


def _parse_kind(data: Mapping[str, Any], origin: str) -> dict[str, Any]:
    kind = str(data.get("kind", "batch"))
    if kind not in KINDS:
        raise InvalidFeatureGroup(f"{origin}: kind must be one of {sorted(KINDS)}", field="kind")
    topics = data.get("topics") or []
    well_formed = isinstance(topics, list) and all(isinstance(t, str) and t for t in topics)
    if kind == "streaming" and not (well_formed and topics):
        raise InvalidFeatureGroup(f"{origin}: a streaming group needs topics: [<topic>, ...]", field="topics")
    if (kind == "streaming") != (data["schedule"] == "continuous"):
        raise InvalidFeatureGroup(f"{origin}: schedule continuous goes with kind streaming only", field="schedule")
    return {"kind": kind, "topics": tuple(topics)}


def _parse_features(items: Any, origin: str) -> tuple[FeatureSpec, ...]:
    if not isinstance(items, list):
        raise InvalidFeatureGroup(f"{origin}: features must be a list", field="features")
    specs = []
    for index, item in enumerate(items):
        where = f"{origin}: features.{index}"
        if not isinstance(item, Mapping) or not item.get("name") or not item.get("description"):
            raise InvalidFeatureGroup(f"{where}: needs a name, a type and a description", field=f"features.{index}")
        if item.get("type") not in FEATURE_TYPES:
            raise InvalidFeatureGroup(
                f"{where}: unknown type {item.get('type')!r} (known: {', '.join(sorted(FEATURE_TYPES))})",
                field=f"features.{index}.type",
            )
        specs.append(FeatureSpec(str(item["name"]), str(item["type"]), str(item["description"])))
    names = [s.name for s in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InvalidFeatureGroup(f"{origin}: duplicate feature(s) {', '.join(duplicates)}", field="features")
    return tuple(specs)
