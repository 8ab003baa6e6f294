"""A loaded partitioned model: the routing table plus one fitted model per node that serves.

Shared by the serving runtime and the holdout evaluation, so both route exactly the same way.
Artifact layout (one directory): ``routing.json``, ``report.json``, ``models/<node>.ubj|.json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inference_engine.algorithms.base import FittedModel
from inference_engine.partitioning.routing import RoutingTable

ROUTING_FILE = "routing.json"
REPORT_FILE = "report.json"


@dataclass(frozen=True)
class PartitionedPredictor:
    routing: RoutingTable
    features: tuple[str, ...]
    models: dict[str, FittedModel]

    def predict(self, keys: Sequence[Sequence[str | None]], x: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """One score per row of ``x``; rows are grouped by answering node so each model scores once."""
        nodes = [self.routing.route(row_keys) for row_keys in keys]
        scores = np.empty(len(nodes), dtype=np.float64)
        by_node: dict[str, list[int]] = {}
        for index, node in enumerate(nodes):
            by_node.setdefault(node, []).append(index)
        for node, indices in by_node.items():
            scores[indices] = self.models[node].predict(x[indices])
        return scores, nodes


def load_predictor(directory: Path) -> PartitionedPredictor:
    from inference_engine.algorithms import load_fitted

    body = json.loads((directory / ROUTING_FILE).read_text())
    models = {node: load_fitted(body["algorithm"], str(directory / file)) for node, file in body["models"].items()}
    return PartitionedPredictor(RoutingTable.from_dict(body), tuple(body["features"]), models)


def read_report(directory: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((directory / REPORT_FILE).read_text())
    return report
