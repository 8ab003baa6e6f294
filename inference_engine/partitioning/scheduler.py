"""Top-down scheduling on Spark: level by level, the nodes of one level in parallel (``applyInPandas``).

One Spark application trains the whole tree. Each level reads the persisted split, keeps the rows of the
nodes still to do (finished nodes of an interrupted run are skipped), groups them by the level's key
columns and trains every group in a Python worker. Failed nodes are retried from the same split, alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inference_engine.partitioning.node_training import NodeContext, read_outcome, train_node
from inference_engine.partitioning.tree import FAILED, NodeKey, NodeOutcome, node_id, nodes_with_model

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

ROOT_COLUMN = "_root"
RESULT_SCHEMA = "node string, status string"


class NodesFailed(RuntimeError):
    def __init__(self, nodes: list[str]) -> None:
        super().__init__(f"{len(nodes)} node(s) still failing after retries: {', '.join(nodes[:5])}")
        self.nodes = nodes


def train_tree(
    spark: SparkSession,
    split_path: Path,
    levels: list[list[NodeKey]],
    context: NodeContext,
    *,
    max_attempts: int,
    on_level: Callable[[int, int], None] | None = None,
) -> list[NodeOutcome]:
    """Train every level in turn; returns every node's outcome (finished ones are read, not redone)."""
    run_dir = Path(context.run_dir)
    needed = [*context.partition_by, *context.features, context.label, "_part", "_row"]
    frame = spark.read.parquet(str(split_path)).where("_part != 'holdout'").select(*[f"`{c}`" for c in needed])
    outcomes: dict[NodeKey, NodeOutcome] = {}
    for level, keys in enumerate(levels):
        incumbents = _incumbents(keys, outcomes, context)
        for attempt in range(max_attempts):
            pending = [key for key in keys if _needs_training(run_dir, context, key)]
            if not pending:
                break
            log.info("level %d: training %d node(s), attempt %d", level, len(pending), attempt + 1)
            _train_level(frame, level, pending, replace(context, attempt=attempt, incumbents=incumbents))
        for key in keys:
            outcome = read_outcome(run_dir, node_id(context.partition_by, key))
            if outcome is not None:
                outcomes[key] = outcome
        failed = [o.node for k, o in outcomes.items() if len(k) == level and o.status == FAILED]
        if failed or len([k for k in keys if k in outcomes]) != len(keys):
            raise NodesFailed(failed or [node_id(context.partition_by, k) for k in keys if k not in outcomes])
        if on_level is not None:
            on_level(level, len(keys))
    return list(outcomes.values())


def train_root_locally(split_path: Path, context: NodeContext, *, max_attempts: int) -> list[NodeOutcome]:
    """A tree of one node (a model without partitions): trained in this process, no Spark to start."""
    import pyarrow.parquet as pq

    needed = [*context.features, context.label, "_part", "_row"]
    frame = pq.read_table(split_path, columns=needed, filters=[("_part", "!=", "holdout")]).to_pandas()
    run_dir = Path(context.run_dir)
    for attempt in range(max_attempts):
        if not _needs_training(run_dir, context, ()):
            break
        train_node(replace(context, attempt=attempt), (), frame)
    outcome = read_outcome(run_dir, node_id(context.partition_by, ()))
    if outcome is None or outcome.status == FAILED:
        raise NodesFailed([node_id(context.partition_by, ())])
    return [outcome]


def _needs_training(run_dir: Path, context: NodeContext, key: NodeKey) -> bool:
    outcome = read_outcome(run_dir, node_id(context.partition_by, key))
    return outcome is None or outcome.status == FAILED


def _incumbents(
    keys: list[NodeKey], outcomes: dict[NodeKey, NodeOutcome], context: NodeContext
) -> dict[NodeKey, tuple[str, str]]:
    """For each node of this level: the nearest ancestor with a model (what would serve it otherwise)."""
    with_model = nodes_with_model(outcomes.values())
    files = {o.key: o.model_file for o in outcomes.values() if o.model_file}
    result: dict[NodeKey, tuple[str, str]] = {}
    for key in keys:
        for depth in range(len(key) - 1, -1, -1):
            ancestor = key[:depth]
            if ancestor in with_model and files.get(ancestor):
                result[key] = (with_model[ancestor], str(files[ancestor]))
                break
    return result


def _train_level(frame: DataFrame, level: int, pending: list[NodeKey], context: NodeContext) -> None:
    from pyspark.sql import functions

    columns = list(context.partition_by[:level])
    if level == 0:
        grouped = frame.withColumn(ROOT_COLUMN, functions.lit("global")).groupBy(ROOT_COLUMN)
    else:
        wanted = frame.sparkSession.createDataFrame([list(key) for key in pending], schema=columns)
        grouped = frame.join(functions.broadcast(wanted), on=columns, how="left_semi").groupBy(*columns)
    trainer = _group_trainer(context, columns)
    grouped.applyInPandas(trainer, schema=RESULT_SCHEMA).collect()


def _group_trainer(context: NodeContext, columns: list[str]) -> Callable[[Any], Any]:
    def train_group(frame: Any) -> Any:
        import pandas as pd

        key = tuple(str(frame[column].iloc[0]) for column in columns)
        outcome = train_node(context, key, frame)
        return pd.DataFrame({"node": [outcome.node], "status": [outcome.status]})

    return train_group
