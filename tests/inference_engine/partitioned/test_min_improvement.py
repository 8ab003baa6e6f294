"""The min_improvement rule: a child keeps its model only when it beats its parent by the spec's margin."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from inference_engine.algorithms import get_algorithm
from inference_engine.errors import TrainingDataError
from inference_engine.partitioning.node_training import NodeContext, train_node
from inference_engine.partitioning.spec import parse_spec
from inference_engine.partitioning.tree import (
    NOT_BETTER_BY_MARGIN,
    SKIPPED_MIN_VALIDATION_ROWS,
    TRAINED,
    WORSE_THAN_PARENT,
    relative_improvement,
    served_by,
)

PARTITION_BY = ("country_code",)
CHILD = ("NL",)


def node_frame(slope: float, rows: int = 200, seed: int = 3) -> pd.DataFrame:
    """One node's rows as Spark hands them to a worker: the last quarter validates."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, rows)
    parts = np.where(np.arange(rows) < rows * 3 // 4, "fit", "valid")
    return pd.DataFrame({"country_code": "NL", "f__x": x, "label": slope * x + rng.normal(0, 1, rows),
                         "_part": parts, "_row": np.arange(rows)})  # fmt: skip


def context(run_dir: Path, parent_slope: float, **rules: float) -> NodeContext:
    """A node whose parent is a linear model of ``label = parent_slope * x``, saved in the run directory."""
    run_dir.mkdir(parents=True, exist_ok=True)
    x = np.linspace(0, 10, 50, dtype=np.float32).reshape(-1, 1)
    parent = get_algorithm("linear_regression").fit((x, parent_slope * x[:, 0]), (x, parent_slope * x[:, 0]), {},
                                                     seed=7, threads=1)  # fmt: skip
    parent.save(str(run_dir / f"parent{parent.suffix}"))
    return NodeContext(run_dir=str(run_dir), partition_by=PARTITION_BY, features=("f__x",), label="label",
                       algorithm="linear_regression", metric="mae", min_rows=10, hyperparameters={}, seed=7, threads=1,
                       incumbents={key: ("global", f"parent{parent.suffix}") for key in (CHILD, ("PT",))}, **rules)  # type: ignore[arg-type]  # fmt: skip


def test_a_margin_of_zero_keeps_any_child_that_beats_its_parent(tmp_path: Path) -> None:
    outcome = train_node(context(tmp_path, parent_slope=2.95), CHILD, node_frame(slope=3.0))
    assert outcome.status == TRAINED
    assert outcome.improvement is not None and 0 < outcome.improvement < 0.1
    assert outcome.model_file is not None and (tmp_path / outcome.model_file).is_file()


def test_a_child_must_beat_its_parent_by_the_margin(tmp_path: Path) -> None:
    achieved = train_node(context(tmp_path / "a", parent_slope=2.95), CHILD, node_frame(slope=3.0)).improvement
    assert achieved is not None

    below = train_node(context(tmp_path / "b", parent_slope=2.95, min_improvement=achieved * 0.9), CHILD,
                       node_frame(slope=3.0))  # fmt: skip
    above = train_node(context(tmp_path / "c", parent_slope=2.95, min_improvement=achieved * 1.1), CHILD,
                       node_frame(slope=3.0))  # fmt: skip

    assert below.status == TRAINED
    assert above.status == NOT_BETTER_BY_MARGIN
    assert "min_improvement" in above.reason and above.model_file is None
    assert above.metric is not None and above.parent_metric is not None and above.metric < above.parent_metric
    assert served_by([above])[above.node] is None  # no model of its own: its ancestor serves it


def test_a_child_worse_than_its_parent_is_reported_as_worse_whatever_the_margin(tmp_path: Path) -> None:
    outcome = train_node(context(tmp_path, parent_slope=3.0, min_improvement=0.05), CHILD,
                         node_frame(slope=3.0, rows=40))  # fmt: skip
    assert outcome.status == WORSE_THAN_PARENT
    assert outcome.improvement is not None and outcome.improvement <= 0


def test_a_child_with_too_few_validation_rows_is_not_judged(tmp_path: Path) -> None:
    outcome = train_node(context(tmp_path, parent_slope=2.0, min_validation_rows=51), CHILD, node_frame(slope=3.0))
    assert outcome.status == SKIPPED_MIN_VALIDATION_ROWS
    assert outcome.rows_valid == 50 and "min_validation_rows" in outcome.reason


def test_the_global_node_is_never_held_to_a_margin(tmp_path: Path) -> None:
    rules = context(tmp_path, parent_slope=2.0, min_improvement=0.5, min_validation_rows=10_000)
    outcome = train_node(rules, (), node_frame(slope=3.0))
    assert outcome.status == TRAINED and outcome.improvement is None


@pytest.mark.parametrize(
    ("own", "parent", "lower_is_better", "expected"),
    [(0.98, 1.0, True, 0.02), (1.02, 1.0, True, -0.02), (0.81, 0.9, False, -0.1), (0.99, 0.9, False, 0.1)],
)
def test_improvement_is_relative_to_the_parent(
    own: float, parent: float, lower_is_better: bool, expected: float
) -> None:
    assert relative_improvement(own, parent, lower_is_better=lower_is_better) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("change", "field"),
    [({"min_improvement": -0.01}, "min_improvement"), ({"min_improvement": 1.0}, "min_improvement"),
     ({"min_improvement": "2%"}, "min_improvement"), ({"min_validation_rows": -1}, "min_validation_rows"),
     ({"min_validation_rows": 2.5}, "min_validation_rows")],
)  # fmt: skip
def test_a_bad_margin_is_refused_naming_the_field(change: dict[str, object], field: str) -> None:
    body = {"name": "etd", "table": "t", "partition_by": ["a"], "min_rows": 10, "metric": "mae",
            "algorithm": "xgboost_regressor", **change}  # fmt: skip
    with pytest.raises(TrainingDataError) as raised:
        parse_spec(body)
    assert raised.value.field == field


def test_a_spec_without_a_margin_keeps_beats_its_parent_semantics() -> None:
    body = {"name": "x", "table": "t", "partition_by": ["a"], "min_rows": 10, "metric": "mae",
            "algorithm": "xgboost_regressor"}  # fmt: skip
    spec = parse_spec(body)
    assert (spec.min_improvement, spec.min_validation_rows) == (0.0, 0)


def test_the_report_records_the_margin_and_tells_not_better_by_margin_from_worse(tmp_path: Path) -> None:
    from inference_engine.partitioning.report import build_report, table_rows

    spec = parse_spec({"name": "x", "table": "t", "partition_by": ["country_code"], "min_rows": 10, "metric": "mae",
                       "algorithm": "linear_regression", "min_improvement": 0.5})  # fmt: skip
    root = train_node(context(tmp_path / "g", parent_slope=2.0), (), node_frame(slope=3.0))
    small_edge = train_node(context(tmp_path / "n", parent_slope=2.95, min_improvement=0.5), CHILD, node_frame(3.0))
    worse = train_node(context(tmp_path / "p", parent_slope=3.0), ("PT",), node_frame(3.0, rows=40))
    report = build_report(spec, [root, small_edge, worse], {})

    assert (report["min_improvement"], report["min_validation_rows"]) == (0.5, 0)
    assert report["counts"] == {"trained": 1, NOT_BETTER_BY_MARGIN: 1, WORSE_THAN_PARENT: 1}
    by_node = {node["node"]: node for node in report["nodes"]}
    assert by_node["country_code=NL"]["served_by"] == "global" and 0 < by_node["country_code=NL"]["improvement"] < 0.5
    assert any("< min_improvement 50.00%" in row[-1] for row in table_rows(report))
