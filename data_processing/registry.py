"""Feature group registry: reads ``<dir>/*.yaml``, validates each group and finds its code."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from data_processing.domain.feature_code import SQL_SUFFIX
from data_processing.domain.feature_groups import FeatureGroup, parse_feature_group
from data_processing.errors import InvalidFeatureGroup, UnknownFeatureGroup

ENTITIES_FILE = "entities.yaml"  # the entities groups may use (data_processing.directory registers against it)

#: ``compute(source, as_of=None) -> DataFrame`` with the entity, nominal-time and feature columns
Transform = Callable[..., Any]


class FeatureGroupRegistry:
    def __init__(self, groups: dict[str, FeatureGroup], directory: Path) -> None:
        self._groups = groups
        self._directory = directory

    @classmethod
    def load(cls, directory: Path) -> FeatureGroupRegistry:
        """Read and validate every group; a broken definition fails the whole load with its file and field."""
        groups: dict[str, FeatureGroup] = {}
        for path in sorted(directory.glob("*.yaml")):
            if path.name == ENTITIES_FILE:  # the declared entities, not a group
                continue
            group = parse_feature_group(_read_yaml(path), path.name)
            if group.name in groups:
                raise InvalidFeatureGroup(f"{path.name}: feature group {group.name!r} is defined twice", field="name")
            if not (directory / group.code).is_file():
                raise InvalidFeatureGroup(f"{path.name}: code file {group.code} not found in {directory}", field="code")
            groups[group.name] = group
        return cls(groups, directory)

    def names(self) -> list[str]:
        return sorted(self._groups)

    def get(self, name: str) -> FeatureGroup:
        try:
            return self._groups[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise UnknownFeatureGroup(f"unknown feature group {name!r} (known: {known})", field="group") from None

    def declared_zone(self, name: str) -> str | None:
        """The ``time_zone`` group ``name`` declares (its feature times' wall clock); None if none or unknown."""
        group = self._groups.get(name)
        return group.time_zone if group is not None else None

    def transform(self, name: str) -> Transform:
        """Import the group's code (only when a job builds it: it imports pyspark) and return ``compute``; a SQL
        group's compute runs its query over the view ``source`` (the group's source table)."""
        group = self.get(name)
        path = self._directory / group.code
        if group.code.endswith(SQL_SUFFIX):
            return sql_transform(path.read_text())
        spec = importlib.util.spec_from_file_location(f"strata_feature_group_{group.name}", path)
        if spec is None or spec.loader is None:
            raise InvalidFeatureGroup(f"{path} cannot be imported", field="code")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        compute = getattr(module, "compute", None)
        if not callable(compute):
            raise InvalidFeatureGroup(f"{path} defines no compute(source, as_of=None) function", field="code")
        return compute


def sql_transform(query: str) -> Transform:
    """``compute(source, as_of=None)`` of a SQL group: its query over ``source``; rows after ``as_of`` dropped by
    the build job like any group's (see ``jobs/build_features.py``)."""

    def compute(source: Any, as_of: Any = None) -> Any:
        source.createOrReplaceTempView("source")
        return source.sparkSession.sql(query)

    return compute


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise InvalidFeatureGroup(f"{path.name}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise InvalidFeatureGroup(f"{path.name}: must be a mapping of fields")
    return data
