"""The transformation DSL: every function, missing values, JSON round trip, batch == row by row, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from data_processing.domain import dsl
from data_processing.domain.expressions import feature_set_to_json, model_inputs, parse_feature_set
from tests.data_processing.pit.specs import ETD_FEATURE_SET

NAN = float("nan")
COLUMNS = {
    "g__x": np.array([1.0, 4.0, NAN, -2.0, 0.0]),
    "g__y": np.array([2, 0, 5, 1, 3]),
    "g__city": np.array(["madrid", "paris", None, "madrid", "rome"], dtype=object),
}


def _eval(text: str) -> list[float | None]:
    values = dsl.evaluate(dsl.parse(text), COLUMNS)
    return [None if math.isnan(v) else round(v, 6) for v in values.tolist()]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@g:x + @g:y * 2", [5.0, 4.0, None, 0.0, 6.0]),
        ("(@g:x - 1) / @g:y", [0.0, None, None, -3.0, -0.333333]),  # x/0 is missing, not inf
        ("-@g:x", [-1.0, -4.0, None, 2.0, -0.0]),
        ("log(@g:x + 1)", [0.693147, 1.609438, None, None, 0.0]),  # log of <= 0 is missing
        ("clip(@g:x, 0, 2)", [1.0, 2.0, None, 0.0, 0.0]),
        ("bucketize(@g:x, [0, 2.5])", [1.0, 2.0, None, 0.0, 1.0]),
        ("fill_missing(@g:x, -1)", [1.0, 4.0, -1.0, -2.0, 0.0]),
        ("fill_missing(@g:x / @g:y, 0) + 1e1", [10.5, 10.0, 10.0, 8.0, 10.0]),
    ],
)
def test_each_operation(text: str, expected: list[float | None]) -> None:
    assert _eval(text) == expected


def test_one_hot_makes_one_column_per_category_and_missing_is_all_zeros() -> None:
    node = dsl.parse('one_hot(@g:city, ["madrid", "rome"])')
    assert {k: v.tolist() for k, v in dsl.evaluate_columns("city", node, COLUMNS).items()} == {
        "city_madrid": [1.0, 0.0, 0.0, 1.0, 0.0],
        "city_rome": [0.0, 0.0, 0.0, 0.0, 1.0],
    }
    numeric = dsl.evaluate_columns("x", dsl.parse("one_hot(@g:x, [1, -2])"), COLUMNS)
    assert {k: v.tolist() for k, v in numeric.items()} == {"x_1": [1, 0, 0, 0, 0], "x_2": [0, 0, 0, 1, 0]}


@pytest.mark.parametrize(
    "text",
    ["log(@g:x + 1)", "clip(@g:x * 3, -1, 5) - @g:y", "bucketize(fill_missing(@g:x, 9), [-1, 1, 3])", "@g:x / @g:y"],
)
def test_json_round_trip_and_batch_equals_row_by_row(text: str) -> None:
    node = dsl.parse(text)
    restored = dsl.from_json(json.loads(json.dumps(dsl.to_json(node))))
    assert restored == node
    batch = dsl.evaluate(restored, COLUMNS)
    rows = [dsl.evaluate(node, {k: v[i : i + 1] for k, v in COLUMNS.items()})[0] for i in range(5)]
    np.testing.assert_array_equal(batch, np.array(rows))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sqrt(@g:x)", "unknown function 'sqrt' (known: bucketize, clip, fill_missing, log, one_hot)"),
        ("log(@g:x", "ends early"),
        ("clip(@g:x, 0)", "clip() takes 3 argument(s), got 2"),
        ("clip(@g:x, @g:y, 1)", "argument 2 of clip() must be a number"),
        ("bucketize(@g:x, [3, 1])", "boundaries must be ascending numbers"),
        ("log(one_hot(@g:x, [1]))", "one_hot() must be the outermost function"),
        ("@g:x +* 2", "unexpected '*'"),
        ("@gx + 1", "must look like '@group:feature'"),
        ("", "expression is empty"),
    ],
)
def test_bad_expressions_are_refused_naming_the_problem(text: str, message: str) -> None:
    with pytest.raises(dsl.InvalidExpression) as caught:
        dsl.parse(text)
    assert message in caught.value.message


def test_a_feature_that_is_not_an_input_is_named() -> None:
    with pytest.raises(dsl.InvalidExpression, match="unknown feature @g:missing"):
        dsl.evaluate(dsl.parse("@g:missing * 2"), COLUMNS)


def test_bad_json_trees_are_refused() -> None:
    with pytest.raises(dsl.InvalidExpression, match="unknown function 'exp'"):
        dsl.from_json({"fn": "exp", "args": [{"ref": "@g:x"}]})
    with pytest.raises(dsl.InvalidExpression, match="operator '%'"):
        dsl.from_json({"op": "%", "args": [{"const": 1}, {"const": 2}]})


def test_feature_set_json_round_trip_gives_the_same_inputs() -> None:
    spec = feature_set_to_json(ETD_FEATURE_SET)
    restored = parse_feature_set(json.loads(json.dumps(spec)), "model tag")
    assert restored == ETD_FEATURE_SET
    assert spec["columns"] == list(ETD_FEATURE_SET.columns)
    fetched = {ref.column: np.array([4.0, NAN]) for ref in ETD_FEATURE_SET.required_refs}
    inputs = model_inputs(restored, fetched)
    assert list(inputs) == list(ETD_FEATURE_SET.columns)
    assert inputs["derived__prep_share_7d"].tolist()[0] == 1.0
    assert inputs["derived__log_order_count_7d"].tolist() == [math.log(5), 0.0]


def _declared(**changes: object) -> object:
    from data_processing.models import declared_model
    from strata_kernel.contracts.model_spec import ModelSpec
    from tests.data_processing.pit.specs import REGISTRY

    body = {"name": "m", "spine": {"table": "processed.orders", "id": "order_id", "time": "placed_at"},
            "entities": ["restaurant_id"], "context": {"name": "order", "fields": {"n_items": "int64"}},
            "label": "delivery_minutes", "features": ["@order:n_items"], "algorithm": "linear_regression",
            "metric": "mae", **changes}  # fmt: skip
    return declared_model(ModelSpec.from_mapping(body, "m.yaml"), REGISTRY)


def test_a_declaration_reading_an_unknown_feature_is_refused_naming_it() -> None:
    with pytest.raises(dsl.InvalidExpression, match="@restaurant_stats:nope: unknown feature 'nope'"):
        _declared(derived=[{"name": "d", "expression": "log(@restaurant_stats:nope)"}])
    with pytest.raises(dsl.InvalidExpression, match="@weather:rain: unknown feature group 'weather'"):
        _declared(features=["@order:n_items", "@weather:rain"])
    with pytest.raises(dsl.InvalidExpression, match="@order:tip: unknown feature 'tip' of group 'order'"):
        _declared(features=["@order:tip"])


def test_a_group_keyed_by_another_entity_is_refused() -> None:
    with pytest.raises(dsl.InvalidExpression, match="keyed by 'restaurant_id', which is not among the model's"):
        _declared(entities=["courier_id"], features=["@restaurant_stats:order_count_7d"])
