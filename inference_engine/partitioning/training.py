"""Use case: train a partitioned model from a spec, judge every node, register ONE MLflow version.

A run is keyed by a run id derived from (spec, data version, options): running the same training again
after an interruption resumes it — the persisted split and every finished node are reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inference_engine import artifact_identity as identity
from inference_engine.errors import TrainingDataError
from inference_engine.partitioning.dataset import (
    FIT,
    VALID,
    categorical_features,
    count_rows,
    feature_set_tags,
    partition_keys,
    read_source,
    write_split,
)
from inference_engine.partitioning.evaluation import holdout_summary, score_holdout
from inference_engine.partitioning.node_training import NodeContext
from inference_engine.partitioning.predictor import REPORT_FILE, ROUTING_FILE, load_predictor
from inference_engine.partitioning.report import build_report
from inference_engine.partitioning.routing import RoutingTable
from inference_engine.partitioning.scheduler import NodesFailed, train_root_locally, train_tree
from inference_engine.partitioning.spec import PartitionSpec, parse_monitoring, task_of
from inference_engine.partitioning.tree import GLOBAL, NodeKey, NodeOutcome, level_order, served_by
from inference_engine.ports import ModelRegistry, TableLocation, TrainedCandidate, TrainingDataSource
from inference_engine.reference import documents, reference_document
from strata_kernel.errors import Unavailable

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

FRAMEWORK = "partitioned"
SPLIT_FILE = "split.parquet"
META_FILE = "meta.json"
PUBLISHED_FILE = "published.json"


class PartitionedTrainingFailed(Unavailable):
    code = "partitioned_training_failed"


@dataclass(frozen=True)
class PartitionedOptions:
    runs_dir: Path
    validation_fraction: float = 0.15
    seed: int = 7
    threads: int = 1
    max_attempts: int = 3
    inject_failures: dict[str, int] = field(default_factory=dict)
    fresh: bool = False
    #: the training table's version to read (None: the latest): a rebuild reads what the reproduced version read
    table_version: int | None = None
    #: the ``inference_engine train`` options of this training, recorded so that a rebuild trains the same way
    train_args: tuple[str, ...] = ()


def run_id_for(spec: PartitionSpec, data_version: str, options: PartitionedOptions) -> str:
    basis = [spec.fingerprint(), data_version, options.validation_fraction, options.seed]
    return hashlib.sha256(json.dumps(basis).encode()).hexdigest()[:12]


def train_partitioned(
    spec: PartitionSpec,
    data_source: TrainingDataSource,
    registry: ModelRegistry,
    spark_factory: Callable[[], SparkSession],
    options: PartitionedOptions,
) -> dict[str, Any]:
    """Train the tree, evaluate on the held-out window, register; returns the summary and the report."""
    table = data_source.locate(spec.table, options.table_version)
    data_version = f"{table.name}@v{table.version}"
    run_id = run_id_for(spec, data_version, options)
    # before reading: the files must outlive the lake's retention for as long as `strata reproduce` may rebuild it
    data_source.hold(table.name, table.version, f"{spec.name} training run {run_id}")
    run_dir = _prepare_run_dir(options.runs_dir / spec.name / run_id, options.fresh)
    meta = _ensure_split(run_dir, spec, table, options)
    rows: dict[NodeKey, dict[str, int]] = {tuple(k): v for k, v in meta["rows"]}
    trainable = [key for key, parts in rows.items() if parts[FIT] + parts[VALID] > 0]
    context = _context(run_dir, spec, meta, options)
    started = time.perf_counter()
    try:
        if not spec.partition_by:  # one node: no Spark application to start
            outcomes = train_root_locally(run_dir / SPLIT_FILE, context, max_attempts=options.max_attempts)
        else:
            outcomes = train_tree(spark_factory(), run_dir / SPLIT_FILE, level_order(trainable), context,
                                  max_attempts=options.max_attempts)  # fmt: skip
    except NodesFailed as exc:
        raise PartitionedTrainingFailed(f"{exc}; run {run_id} keeps the finished nodes: train again to resume") from exc
    seconds = time.perf_counter() - started
    report = _finish(run_dir, spec, outcomes, data_version, run_id, seconds)
    candidate = _candidate(spec, run_dir, meta, report, data_version)
    candidate.tags.update(feature_set_tags(table.location))
    candidate.documents.update(documents(_reference(run_dir, spec, data_version)))
    if not spec.partition_by and spec.algorithm.startswith("xgboost"):
        candidate = _xgboost_flavor(candidate, run_dir / "artifact", report)
    _record_provenance(candidate, run_dir, spec, table, options)
    published = registry.publish(candidate)
    report["version"] = published.version
    (run_dir / PUBLISHED_FILE).write_text(json.dumps({"version": published.version}))
    return {"summary": _summary(spec, report, published.version, data_version), "report": report}


def _prepare_run_dir(run_dir: Path, fresh: bool) -> Path:
    if run_dir.exists() and (fresh or (run_dir / PUBLISHED_FILE).exists()):
        shutil.rmtree(run_dir)  # a finished (or unwanted) run is never resumed: start over
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def _ensure_split(
    run_dir: Path, spec: PartitionSpec, table: TableLocation, options: PartitionedOptions
) -> dict[str, Any]:
    meta_path = run_dir / META_FILE
    if meta_path.is_file() and (run_dir / SPLIT_FILE).is_file():
        meta: dict[str, Any] = json.loads(meta_path.read_text())
        return meta  # resuming: the split is the one the finished nodes were trained on
    source = read_source(table, spec)
    not_features = {*spec.partition_by, spec.time_column, spec.label, spec.baseline_by}
    features = [c for c in source.column_names if c not in not_features]
    categorical = categorical_features(source, features)
    split = run_dir / SPLIT_FILE
    holdout_start, categories = write_split(source, spec, split, options.validation_fraction, categorical)
    counts = count_rows(split, spec)
    if counts.get((), {}).get(FIT, 0) == 0:
        raise TrainingDataError(f"training set of {spec.name} has no rows before its held-out window")
    meta = {"features": features, "categories": categories, "holdout_start": holdout_start,
            "rows": [[list(k), v] for k, v in counts.items()]}  # fmt: skip
    meta_path.write_text(json.dumps(meta))
    return meta


def _context(run_dir: Path, spec: PartitionSpec, meta: dict[str, Any], options: PartitionedOptions) -> NodeContext:
    return NodeContext(
        run_dir=str(run_dir), partition_by=spec.partition_by, features=tuple(meta["features"]), label=spec.label,
        algorithm=spec.algorithm, metric=spec.metric, min_rows=spec.min_rows,
        min_improvement=spec.min_improvement, min_validation_rows=spec.min_validation_rows,
        hyperparameters=dict(spec.hyperparameters), seed=options.seed, threads=options.threads,
        inject_failures=dict(options.inject_failures),
        categorical=_category_counts(meta["features"], meta.get("categories", {})),
    )  # fmt: skip


def _category_counts(features: list[str], categories: dict[str, list[str]]) -> dict[int, int]:
    """Column index -> number of categories, for the algorithms (XGBoost's categorical splits, one-hot in linear)."""
    return {index: len(categories[name]) for index, name in enumerate(features) if name in categories}


def _finish(
    run_dir: Path, spec: PartitionSpec, outcomes: list[NodeOutcome], data_version: str, run_id: str, seconds: float
) -> dict[str, Any]:
    """Assemble the artifact directory (routing + models + report) and score the held-out window."""
    by_node = {o.node: o for o in outcomes}
    root = by_node.get(GLOBAL)
    if root is None or root.model_file is None:
        reason = root.reason if root else "not trained"
        raise TrainingDataError(f"the global node of {spec.name} has no model ({reason})")
    artifact = run_dir / "artifact"
    shutil.rmtree(artifact, ignore_errors=True)
    (artifact / "models").mkdir(parents=True)
    models = {}
    for outcome in outcomes:
        if outcome.model_file and outcome.status == "trained":
            shutil.copy2(run_dir / outcome.model_file, artifact / outcome.model_file)
            models[outcome.node] = outcome.model_file
    serving = served_by(outcomes)
    routing = RoutingTable(spec.partition_by, {o.key: serving[o.node] for o in outcomes})  # type: ignore[misc]
    meta = json.loads((run_dir / META_FILE).read_text())
    body = {**routing.to_dict(), "features": meta["features"], "categories": meta.get("categories", {}),
            "algorithm": spec.algorithm, "task": task_of(spec.algorithm), "metric": spec.metric,
            "models": models}  # fmt: skip
    (artifact / ROUTING_FILE).write_text(json.dumps(body))
    scores = score_holdout(run_dir / SPLIT_FILE, spec, load_predictor(artifact))
    extra = {"run_id": run_id, "data_version": data_version, "training_seconds": round(seconds, 2),
             "holdout_start": meta["holdout_start"], **holdout_summary(scores, spec)}  # fmt: skip
    report = build_report(spec, outcomes, extra)
    (artifact / REPORT_FILE).write_text(json.dumps(report))
    return report


def _reference(run_dir: Path, spec: PartitionSpec, data_version: str) -> dict[str, Any]:
    """Every row of the split (training, validation and held-out parts) with the tree's prediction for it and
    the node that serves it: the reference is cut per node as well as per hour."""
    import numpy as np
    import pyarrow.parquet as pq

    predictor = load_predictor(run_dir / "artifact")
    table = pq.read_table(run_dir / SPLIT_FILE)
    x = np.column_stack([table.column(f).to_numpy(zero_copy_only=False) for f in predictor.features])
    x = x.astype(np.float32).reshape(table.num_rows, len(predictor.features))
    predictions, nodes = predictor.predict(partition_keys(table, spec.partition_by), x)
    labels = table.column(spec.label).to_numpy(zero_copy_only=False).astype(np.float64)
    meta = {"data_version": data_version, "rows_from": "training, validation and held-out parts of the split"}
    categories = json.loads((run_dir / META_FILE).read_text()).get("categories", {})
    return reference_document(predictor.features, x, predictions, labels, parse_monitoring(spec.monitoring),
                              nodes=nodes, meta=meta, categories=categories)  # fmt: skip


def _candidate(
    spec: PartitionSpec, run_dir: Path, meta: dict[str, Any], report: dict[str, Any], data_version: str
) -> TrainedCandidate:
    from inference_engine.domain.features import canonical_feature

    features = tuple(meta["features"])
    metrics = {f"holdout_{k}": v for k, v in (report.get("holdout") or {}).items()}
    metrics.update({f"holdout_global_only_{k}": v for k, v in (report.get("holdout_global_only") or {}).items()})
    for node in report["nodes"]:
        for name, value in node["metrics"].items():
            if value is not None:
                metrics[f"node/{_metric_key(node['key'])}/{name}"] = value
    params = {"partition_by": ",".join(spec.partition_by), "algorithm": spec.algorithm, "metric": spec.metric,
              "min_rows": spec.min_rows, "min_improvement": spec.min_improvement,
              "min_validation_rows": spec.min_validation_rows,
              **{f"hp_{k}": v for k, v in spec.hyperparameters.items()}}  # fmt: skip
    holdout = report.get("holdout") or {}
    tags = {"features": json.dumps(list(features)), "data_version": data_version, "framework": FRAMEWORK,
            "partition_by": json.dumps(list(spec.partition_by)), "run_id_partitioned": report["run_id"],
            "nodes_with_model": str(sum(1 for n in report["nodes"] if n["status"] == "trained")),
            "nodes_total": str(len(report["nodes"]))}  # fmt: skip
    if "__" in "".join(features):
        tags["canonical_features"] = json.dumps([canonical_feature(f) for f in features])
    if meta.get("categories"):  # serving maps a text feature's value to the index the model learnt
        tags["categories"] = json.dumps(meta["categories"], separators=(",", ":"))
    tags.update(task=task_of(spec.algorithm), holdout_days=str(spec.holdout_days), time_zone=spec.time_zone or "UTC")
    for name, value in (report.get("baseline") or {}).items():
        if value == value:  # not NaN
            metrics[f"holdout_baseline_{name}"] = value
            tags[f"baseline_{name}"] = f"{value:.4f}"
    for name, value in holdout.items():
        tags[f"metric_{name}"] = f"{value:.4f}"
    return TrainedCandidate(spec.name, FRAMEWORK, run_dir / "artifact", features, params, metrics, tags)


def _xgboost_flavor(candidate: TrainedCandidate, artifact: Path, report: dict[str, Any]) -> TrainedCandidate:
    """A global XGBoost model is registered in MLflow's own xgboost flavor (``mlflow models serve`` can load it;
    the engine serves it with the XGBoost runtime), with the same tags."""
    import xgboost as xgb

    routing = json.loads((artifact / ROUTING_FILE).read_text())
    booster = xgb.Booster()
    booster.load_model(str(artifact / routing["models"][GLOBAL]))
    tags = {**candidate.tags, "framework": "xgboost"}
    return replace(candidate, framework="xgboost", model=booster, tags=tags)


def _record_provenance(
    candidate: TrainedCandidate, run_dir: Path, spec: PartitionSpec, table: TableLocation, options: PartitionedOptions
) -> None:
    """What the version was built from (strata_kernel.provenance) and how it was trained (options, seed), the
    fingerprint of the bytes that decide its predictions and its predictions on a held-out sample
    (inference_engine.artifact_identity)."""
    from strata_kernel import provenance

    if candidate.framework == "xgboost":
        found = identity.booster_fingerprint(candidate.model)
    else:
        found = identity.fingerprint(candidate.model, candidate.framework)
    candidate.tags.update(provenance.collect({table.name: table.version}, params_section=spec.name))
    candidate.tags.update(provenance.training_tags(options.train_args, options.seed, table.location))
    candidate.tags[provenance.PREFIX + "fingerprint"] = identity.digest(found)
    candidate.documents[identity.SAMPLE_DOCUMENT] = _sample(run_dir, spec)
    candidate.documents[provenance.LOCK_DOCUMENT] = provenance.lock_document()


def _sample(run_dir: Path, spec: PartitionSpec) -> dict[str, Any]:
    """The first held-out rows (the earliest training rows when nothing is held out) with the tree's predictions."""
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    predictor = load_predictor(run_dir / "artifact")
    table = pq.read_table(run_dir / SPLIT_FILE)
    held = table.filter(pc.equal(table.column("_part"), "holdout"))
    table = (held if held.num_rows else table).slice(0, identity.SAMPLE_ROWS)
    x = np.column_stack([table.column(f).to_numpy(zero_copy_only=False) for f in predictor.features])
    x = x.astype(np.float32).reshape(table.num_rows, len(predictor.features))
    keys = partition_keys(table, spec.partition_by)
    return identity.tabular_sample(keys, x, predictor.predict(keys, x)[0])


def _metric_key(key: list[str]) -> str:
    import re

    return "/".join(re.sub(r"[^\w.\- ]", "_", value) for value in key) or "global"


def _summary(spec: PartitionSpec, report: dict[str, Any], version: int, data_version: str) -> dict[str, Any]:
    return {"model": spec.name, "version": version, "partitioned": True, "run_id": report["run_id"],
            "nodes": len(report["nodes"]), "counts": report["counts"],
            "training_seconds": report["training_seconds"], "holdout_rows": report.get("holdout_rows", 0),
            **{k: v for k, v in (report.get("holdout") or {}).items()},
            "baseline_mae": report.get("baseline_mae"), "baseline": report.get("baseline"),
            "global_only": report.get("holdout_global_only"), "data_version": data_version}  # fmt: skip
