"""Registration rules: each refusal, immutability of a registered feature, and deprecation."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_processing.adapters.sql_directory import SqlFeatureDirectory
from data_processing.directory.services import deprecate_feature, register_all, register_group_file
from data_processing.domain.registry_rules import ACTIVE, DEPRECATED, FeatureSemanticsChanged, RegistrationRefused
from tests.data_processing.directory.groups import NOW, PACKAGED, copy_group, declared_features, edit_code, edit_yaml

AVG_PREP = 'F.avg("prep_minutes").alias("avg_prep_minutes_7d")'


def _names(directory: SqlFeatureDirectory) -> list[str]:
    return [f.name for f in directory.features("restaurant_stats")]


def test_every_packaged_group_registers_and_registering_again_changes_nothing(directory: SqlFeatureDirectory) -> None:
    first = register_all(directory, PACKAGED, now=NOW)
    again = register_all(directory, PACKAGED, now=NOW)

    assert {plan.group.name for plan in first} == {"restaurant_stats", "restaurant_realtime"}
    assert all(plan.changed for plan in first) and not any(plan.changed for plan in again)
    assert _names(directory) == ["order_count_7d", "avg_prep_minutes_7d", "avg_delivery_minutes_7d"]
    assert {f.status for f in directory.features("restaurant_stats")} == {ACTIVE}


def test_an_unknown_entity_is_refused_naming_the_declared_ones(directory: SqlFeatureDirectory, tmp_path: Path) -> None:
    path = copy_group(tmp_path)
    edit_yaml(path, entity="courier_id")

    with pytest.raises(RegistrationRefused, match=r"unknown entity 'courier_id' \(declared entities: city_id,") as err:
        register_group_file(directory, path, now=NOW)
    assert err.value.field == "entity" and err.value.status == 400
    assert directory.groups() == []


def test_a_duplicate_feature_is_refused_naming_it(directory: SqlFeatureDirectory, tmp_path: Path) -> None:
    path = copy_group(tmp_path)
    edit_yaml(path, features=[{"name": "order_count_7d", "type": "int64", "description": "n"}] * 2)

    with pytest.raises(RegistrationRefused, match=r"duplicate feature\(s\) order_count_7d"):
        register_group_file(directory, path, now=NOW)
    assert directory.groups() == []


def test_a_declared_type_the_code_cannot_produce_is_refused(directory: SqlFeatureDirectory, tmp_path: Path) -> None:
    path = copy_group(tmp_path)
    edit_code(
        path.with_suffix(".py"), '.cast("long").alias("order_count_7d")', '.cast("double").alias("order_count_7d")'
    )

    with pytest.raises(RegistrationRefused, match="'order_count_7d' is declared int64 but its code produces float64"):
        register_group_file(directory, path, now=NOW)


@pytest.mark.parametrize("how", ["no code file", "no compute function", "syntax error"])
def test_missing_code_is_refused(directory: SqlFeatureDirectory, tmp_path: Path, how: str) -> None:
    path = copy_group(tmp_path)
    code = path.with_suffix(".py")
    if how == "no code file":
        code.unlink()
    elif how == "no compute function":
        edit_code(code, "def compute(", "def calculate(")
    else:
        code.write_text("def compute(:\n")

    with pytest.raises(RegistrationRefused) as err:
        register_group_file(directory, path, now=NOW)
    assert err.value.field == "code"
    assert directory.groups() == []


def test_changed_code_under_the_same_name_is_refused_naming_the_feature(
    directory: SqlFeatureDirectory, tmp_path: Path
) -> None:
    path = copy_group(tmp_path)
    register_group_file(directory, path, now=NOW)
    edit_code(path.with_suffix(".py"), AVG_PREP, 'F.median("prep_minutes").alias("avg_prep_minutes_7d")')

    with pytest.raises(FeatureSemanticsChanged, match=r"feature @restaurant_stats:avg_prep_minutes_7d .* code") as err:
        register_group_file(directory, path, now=NOW)
    assert err.value.status == 409


def test_changed_shared_code_changes_every_feature_of_the_group(directory: SqlFeatureDirectory, tmp_path: Path) -> None:
    path = copy_group(tmp_path)
    register_group_file(directory, path, now=NOW)
    edit_code(path.with_suffix(".py"), "WINDOW_DAYS = 7", "WINDOW_DAYS = 14")

    with pytest.raises(FeatureSemanticsChanged, match="@restaurant_stats:order_count_7d"):
        register_group_file(directory, path, now=NOW)


def test_a_changed_type_under_the_same_name_is_refused(directory: SqlFeatureDirectory, tmp_path: Path) -> None:
    path = copy_group(tmp_path)
    register_group_file(directory, path, now=NOW)
    features = [{"name": "order_count_7d", "type": "float64", "description": "now a float"}]
    edit_yaml(path, features=features)

    with pytest.raises(FeatureSemanticsChanged, match=r"@restaurant_stats:order_count_7d .*type \(int64 -> float64\)"):
        register_group_file(directory, path, now=NOW)
    assert directory.features("restaurant_stats")[0].type == "int64"


def test_the_changed_feature_under_a_new_name_is_accepted_and_comments_change_nothing(
    directory: SqlFeatureDirectory, tmp_path: Path
) -> None:
    path = copy_group(tmp_path)
    register_group_file(directory, path, now=NOW)
    code = path.with_suffix(".py")
    edit_code(code, AVG_PREP, f'{AVG_PREP},\n            F.median("prep_minutes").alias("median_prep_minutes_7d")')
    edit_code(code, '"""Feature group restaurant_stats', '"""Feature group restaurant_stats (now with a median)')
    features = [
        *declared_features(path),
        {"name": "median_prep_minutes_7d", "type": "float64", "description": "Median."},
    ]
    edit_yaml(path, features=features)

    plan = register_group_file(directory, path, now=NOW)

    assert [f.name for f in plan.new_features] == ["median_prep_minutes_7d"]
    assert _names(directory)[-1] == "median_prep_minutes_7d"


def test_deprecation_marks_the_feature_and_names_its_users(directory: SqlFeatureDirectory) -> None:
    from data_processing.directory.services import record_reads

    register_all(directory, PACKAGED, now=NOW)
    record_reads(directory, "model:etd", ["@restaurant_stats:order_count_7d", "@order:n_items"], 5, NOW)

    answer = deprecate_feature(directory, "@restaurant_stats:order_count_7d", "use orders_last_1h", now=NOW)

    assert answer == {"feature": "@restaurant_stats:order_count_7d", "status": DEPRECATED,
                      "reason": "use orders_last_1h", "warned": ["model:etd"]}  # fmt: skip
    assert directory.features("restaurant_stats")[0].status == DEPRECATED
