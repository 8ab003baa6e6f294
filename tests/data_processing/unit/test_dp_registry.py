from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from data_processing.errors import InvalidFeatureGroup, UnknownFeatureGroup
from data_processing.registry import FeatureGroupRegistry
from data_processing.settings import Settings

PACKAGED = Settings().resolved_feature_groups_dir()


def _group_dir(tmp_path: Path, **changes: object) -> Path:
    data = yaml.safe_load((PACKAGED / "restaurant_stats.yaml").read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    (tmp_path / "restaurant_stats.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "restaurant_stats.py").write_text("def compute(source, as_of=None):\n    return source\n")
    return tmp_path


def test_the_packaged_restaurant_stats_group_is_valid() -> None:
    group = FeatureGroupRegistry.load(PACKAGED).get("restaurant_stats")

    assert group.entity == "restaurant_id"
    assert group.nominal_time == "feature_time"
    assert group.ttl == timedelta(days=2)
    assert group.schedule == "daily"
    assert group.feature_names == ("order_count_7d", "avg_prep_minutes_7d", "avg_delivery_minutes_7d")
    assert [f.type for f in group.features] == ["int64", "float64", "float64"]


def test_a_missing_field_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidFeatureGroup, match=r"restaurant_stats.yaml: missing field\(s\) entity"):
        FeatureGroupRegistry.load(_group_dir(tmp_path, entity=None))


def test_an_unknown_feature_type_is_named(tmp_path: Path) -> None:
    features = [{"name": "order_count_7d", "type": "decimal", "description": "x"}]
    with pytest.raises(InvalidFeatureGroup, match=r"features.0: unknown type 'decimal'"):
        FeatureGroupRegistry.load(_group_dir(tmp_path, features=features))


def test_a_bad_ttl_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidFeatureGroup, match=r"ttl: 'two days' is not a duration"):
        FeatureGroupRegistry.load(_group_dir(tmp_path, ttl="two days"))


def test_missing_code_is_reported(tmp_path: Path) -> None:
    with pytest.raises(InvalidFeatureGroup, match=r"code file nowhere.py not found"):
        FeatureGroupRegistry.load(_group_dir(tmp_path, code="nowhere.py"))


def test_code_without_compute_is_reported(tmp_path: Path) -> None:
    directory = _group_dir(tmp_path)
    (directory / "restaurant_stats.py").write_text("VALUE = 1\n")
    with pytest.raises(InvalidFeatureGroup, match="defines no compute"):
        FeatureGroupRegistry.load(directory).transform("restaurant_stats")


def test_an_unknown_group_lists_the_known_ones() -> None:
    known = r"\(known: restaurant_realtime, restaurant_stats\)"
    with pytest.raises(UnknownFeatureGroup, match=r"unknown feature group 'nope' " + known):
        FeatureGroupRegistry.load(PACKAGED).get("nope")
