"""Use case: train a declared model (``model_specs/<name>.yaml``), evaluate it on its hold-out window, register it.

Every declared model trains through one pipeline (``partitioning/``): a model with ``partitioning`` as a tree of
nodes on Spark, one without as a tree of one node in this process; ``--no-partitions`` trains the root alone.
The hold-out window, the algorithm, its metric and hyperparameters and the naive baseline are the declaration's;
``--param KEY=VALUE`` overrides a hyperparameter (drills register a deliberately worse candidate).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inference_engine.partitioning.spec import from_declaration
from inference_engine.partitioning.training import PartitionedOptions, train_partitioned
from inference_engine.ports import ModelRegistry, TrainingDataSource
from strata_kernel.errors import BadRequest
from strata_kernel.model_specs import load_model_spec

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: hyperparameters ``--param KEY=VALUE`` may override on an XGBoost model, with their types; n_estimators caps
#: the boosting rounds (XGBoost's num_boost_round)
TUNABLE_PARAMS: dict[str, type[int] | type[float]] = {
    "n_estimators": int,
    "max_depth": int,
    "learning_rate": float,
    "min_child_weight": float,
    "subsample": float,
    "colsample_bytree": float,
    "reg_lambda": float,
}


def parse_param_overrides(pairs: Sequence[str]) -> dict[str, int | float]:
    """``["max_depth=1", ...]`` -> ``{"max_depth": 1}``; BadRequest (exit 2 in the CLI) naming the bad pair."""
    overrides: dict[str, int | float] = {}
    for pair in pairs:
        key, sep, raw = (part.strip() for part in pair.partition("="))
        kind = TUNABLE_PARAMS.get(key)
        if not sep or kind is None:
            known = ", ".join(sorted(TUNABLE_PARAMS))
            raise BadRequest(f"--param {pair!r}: expected KEY=VALUE with KEY one of {known}", field="param")
        try:
            value = kind(raw)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise BadRequest(f"--param {pair!r}: {key} must be {what}", field="param") from None
        lowest_ok = value >= 0 if key in {"min_child_weight", "reg_lambda"} else value > 0
        if not lowest_ok or not math.isfinite(value) or (key in {"subsample", "colsample_bytree"} and value > 1):
            raise BadRequest(f"--param {pair!r}: {key} is out of range", field="param")
        overrides["num_boost_round" if key == "n_estimators" else key] = value
    return overrides


def train_declared(
    name: str,
    specs_dir: Path,
    data_source: TrainingDataSource,
    registry: ModelRegistry,
    spark_factory: Callable[[], SparkSession],
    options: PartitionedOptions,
    *,
    global_only: bool = False,
    params: Sequence[str] = (),
    table_version: int | None = None,
) -> dict[str, Any]:
    """Train, evaluate and register ``name`` (on ``table_version`` of its training set, default the latest);
    returns ``{"summary", "report"}`` (the CLI prints both)."""
    declaration = load_model_spec(name, specs_dir)
    overrides = parse_param_overrides(params)
    if overrides and not declaration.algorithm.startswith("xgboost"):
        raise BadRequest(f"--param applies to XGBoost models; {name} uses {declaration.algorithm}", field="param")
    spec = from_declaration(declaration, global_only=global_only, overrides=overrides)
    # recorded with the version: a rebuild passes the same options (the table version is recorded apart)
    train_args = (*(["--no-partitions"] if global_only else []), *(f"--param={pair}" for pair in params))
    options = replace(options, table_version=table_version, train_args=train_args)
    return train_partitioned(spec, data_source, registry, spark_factory, options)
