"""Pure rules of partitioned models: routing fallbacks, serving resolution, spec validation (no Spark)."""

from __future__ import annotations

import pytest

from inference_engine.errors import TrainingDataError
from inference_engine.partitioning.routing import RoutingTable
from inference_engine.partitioning.spec import parse_spec
from inference_engine.partitioning.tree import (
    SKIPPED_MIN_ROWS,
    TRAINED,
    WORSE_THAN_PARENT,
    NodeOutcome,
    served_by,
)

PARTITION_BY = ("country_code", "city_id")


def outcome(node: str, key: tuple[str, ...], status: str) -> NodeOutcome:
    return NodeOutcome(node=node, key=key, status=status, reason="", rows=10, rows_valid=2)


def test_a_node_without_its_own_model_is_served_by_its_nearest_ancestor_with_one() -> None:
    outcomes = [
        outcome("global", (), TRAINED),
        outcome("NL", ("NL",), SKIPPED_MIN_ROWS),  # ancestor skipped too
        outcome("NL/ams", ("NL", "ams"), WORSE_THAN_PARENT),
        outcome("NL/rot", ("NL", "rot"), TRAINED),
        outcome("PT", ("PT",), TRAINED),
        outcome("PT/lis", ("PT", "lis"), SKIPPED_MIN_ROWS),
    ]
    assert served_by(outcomes) == {
        "global": "global",
        "NL": "global",
        "NL/ams": "global",
        "NL/rot": "NL/rot",
        "PT": "PT",
        "PT/lis": "PT",
    }


def routing() -> RoutingTable:
    return RoutingTable(
        PARTITION_BY, {(): "global", ("NL",): "global", ("NL", "ams"): "NL/ams", ("PT",): "PT", ("PT", "lis"): "PT"}
    )


@pytest.mark.parametrize(
    ("instance", "expected"),
    [
        ({"country_code": "NL", "city_id": "ams"}, "NL/ams"),
        ({"country_code": "NL", "city_id": "unknown-city"}, "global"),  # unknown city -> its country's server
        ({"country_code": "PT", "city_id": "new"}, "PT"),
        ({"country_code": "XX", "city_id": "ams"}, "global"),  # unknown country -> global
        ({"country_code": "PT"}, "PT"),  # no city given -> the country answers
        ({}, "global"),
        ({"country_code": None, "city_id": "ams"}, "global"),
    ],
)
def test_routing_goes_to_the_deepest_known_node(instance: dict[str, object], expected: str) -> None:
    table = routing()
    assert table.route(table.keys_of(instance)) == expected


def test_routing_table_round_trips_through_json() -> None:
    table = routing()
    assert RoutingTable.from_dict(table.to_dict()) == table


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"partition_by": "country_code"}, "partition_by"),  # a list (empty: a global model)
        ({"min_rows": 1}, "min_rows"),
        ({"algorithm": "random_forest"}, "algorithm"),
        ({"metric": "auc"}, "metric"),  # a classification metric on a regressor
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_spec_is_refused_naming_the_field(change: dict[str, object], field: str) -> None:
    body = {"name": "etd", "table": "t", "partition_by": ["a"], "min_rows": 10, "metric": "mae",
            "algorithm": "xgboost_regressor", **change}  # fmt: skip
    with pytest.raises(TrainingDataError) as raised:
        parse_spec(body)
    assert raised.value.field == field


def test_the_packaged_etd_spec_partitions_by_country_then_city() -> None:
    from inference_engine.partitioning.spec import load_spec

    spec = load_spec("etd")
    assert spec.partition_by == ("country_code", "city_id")
    assert spec.algorithm == "xgboost_regressor"
