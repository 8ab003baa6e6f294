"""The predict flow: route a request to a version, score it, re-score node-pinned instances, send a shadow copy to
the candidate, log every routed prediction (off the request path) and count it."""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

from inference_engine.domain.models import Prediction
from inference_engine.domain.routing import SHADOW, pinned_version
from inference_engine.domain.signature import Instance, parse_instances
from inference_engine.helpbot.vectoriser import check_vectoriser
from inference_engine.routing.deployment import Deployment, LoadedModel, RoutedPrediction
from inference_engine.routing.ports import NullPredictionLog, PredictionEntry, PredictionLog
from inference_engine.routing.shadow import ShadowExecutor
from inference_engine.routing.validation import check_version
from inference_engine.serving.loader import describe
from inference_engine.serving.observer import ServingObserver
from inference_engine.serving.routing_table import RoutingTable
from strata_kernel.contracts.prediction import MAX_INSTANCES, ValidationRequest
from strata_kernel.errors import NotFound, Unavailable

log = logging.getLogger(__name__)

VERSION_ROUTE = "version"  # metrics label of an explicit /versions/{v}/predict call (not routed, not logged)


class Predictor:
    def __init__(
        self,
        table: RoutingTable,
        *,
        max_instances: int = MAX_INSTANCES,
        observer: ServingObserver | None = None,
        prediction_log: PredictionLog | None = None,
        shadow: ShadowExecutor | None = None,
    ) -> None:
        self._table = table
        self.max_instances = max_instances
        self._observer = observer if observer is not None else ServingObserver()
        self._log = prediction_log if prediction_log is not None else NullPredictionLog()
        self._shadow = shadow if shadow is not None else ShadowExecutor()

    def predict(
        self,
        name: str,
        body: object,
        version: int | None = None,
        *,
        routing_key: str | None = None,
        request_id: str = "-",
        vectoriser: str | None = None,
    ) -> Prediction:
        """Score with an explicit version, or with the route the model's deployment picks for the key.

        ``vectoriser`` names what produced a text model's token ids; the answering version must share it.
        """
        instances = parse_instances(body, self.max_instances)
        if version is not None:
            loaded = self._table.version(name, version)
            check_vectoriser(loaded.runtime.metadata(), vectoriser)
            started = time.perf_counter()
            predictions, nodes = loaded.runtime.predict_routed(instances)
            self._observer.predicted(name, version, VERSION_ROUTE, len(predictions), time.perf_counter() - started)
            return Prediction(name, loaded.served.version, predictions, nodes)
        deployment = self._table.deployment(name)
        key = routing_key or request_id
        loaded, route = deployment.choose(key)
        check_vectoriser(loaded.runtime.metadata(), vectoriser)
        prediction = self._answer(deployment, loaded, route, instances, key, request_id)
        if deployment.record is not None and deployment.record.mode == SHADOW and deployment.candidate is not None:
            task = functools.partial(self._score_shadow, deployment.candidate, instances, key, request_id)
            if not self._shadow.submit(task):
                self._observer.shadow_dropped(name)
        return prediction

    def validate(self, name: str, version: int, body: object) -> dict[str, Any]:
        """Would ``version`` serve the current traffic? Loads it (and keeps it warm for a deploy); routes nothing."""
        request = ValidationRequest.from_wire(body, self.max_instances)
        serving = self._table.describe(name)
        try:
            loaded = self._table.version(name, version)
        except (NotFound, Unavailable):
            raise
        except Exception as exc:
            return check_version(None, serving.features, request, load_problem=describe(exc))
        return check_version(loaded, serving.features, request)

    def join_shadows(self, timeout: float = 5.0) -> bool:
        """Wait until every queued shadow copy was scored (tests, shutdown); False on time-out."""
        return self._shadow.join(timeout)

    def _answer(
        self,
        deployment: Deployment,
        loaded: LoadedModel,
        route: str,
        instances: list[Instance],
        key: str,
        request_id: str,
    ) -> RoutedPrediction:
        name, version = loaded.served.name, loaded.served.version
        started = time.perf_counter()
        versions: list[int] | None = None
        try:
            predictions, nodes = loaded.runtime.predict_routed(instances)
            if nodes is not None and deployment.record is not None and deployment.record.node_pins:
                versions = _apply_pins(deployment, version, instances, predictions, nodes)
        except Exception as exc:  # the route failed: logged as an error outcome, then the caller sees it
            self._log.record(_entry(request_id, name, version, route, key, instances, started, error=describe(exc)))
            raise
        seconds = time.perf_counter() - started
        if versions is not None and versions[0] != version:  # a node pin moved the (first) instance
            version, route = versions[0], deployment.label(versions[0], route)
        node = nodes[0] if nodes is not None else None
        self._observer.predicted(name, version, route, len(predictions), seconds)
        self._log.record(_entry(request_id, name, version, route, key, instances, started, node, predictions[0]))
        if versions is not None and len(set(versions)) == 1:
            versions = None
        return RoutedPrediction(name, version, predictions, nodes, route, versions)

    def _score_shadow(self, candidate: LoadedModel, instances: list[Instance], key: str, request_id: str) -> None:
        """The candidate scores the request's copy; only logged and counted (runs on the shadow executor)."""
        name, version = candidate.served.name, candidate.served.version
        started = time.perf_counter()
        try:
            predictions, nodes = candidate.runtime.predict_routed(instances)
        except Exception as exc:
            log.warning("shadow %s v%d failed on request %s: %s", name, version, request_id, describe(exc))
            self._observer.shadow_failed(name)
            self._log.record(_entry(request_id, name, version, SHADOW, key, instances, started, error=describe(exc)))
            return
        self._observer.predicted(name, version, SHADOW, len(predictions), time.perf_counter() - started)
        node = nodes[0] if nodes is not None else None
        self._log.record(_entry(request_id, name, version, SHADOW, key, instances, started, node, predictions[0]))


def _apply_pins(
    deployment: Deployment, answering: int, instances: list[Instance], predictions: list[Any], nodes: list[str]
) -> list[int] | None:
    """Re-score, with their pinned version, the instances routed to a pinned node (or below one); in place.

    Returns each instance's version when a pin moved any, else None.
    """
    assert deployment.record is not None
    moved: dict[int, list[int]] = {}
    for index, node in enumerate(nodes):
        pinned = pinned_version(deployment.record.node_pins, node)
        if pinned is not None and pinned != answering:
            moved.setdefault(pinned, []).append(index)
    if not moved:
        return None
    versions = [answering] * len(instances)
    for pinned, indices in moved.items():
        scores, pinned_nodes = deployment.by_version[pinned].runtime.predict_routed([instances[i] for i in indices])
        for position, index in enumerate(indices):
            predictions[index] = scores[position]
            versions[index] = pinned
            if pinned_nodes is not None:
                nodes[index] = pinned_nodes[position]
    return versions


def _entry(
    request_id: str,
    model: str,
    version: int,
    route: str,
    key: str,
    instances: list[Instance],
    started: float,
    node: str | None = None,
    prediction: Any = None,
    error: str | None = None,
) -> PredictionEntry:
    latency_ms = (time.perf_counter() - started) * 1000.0
    return PredictionEntry(time.time(), request_id, model, version, route, key, node, instances[0], prediction,
                           latency_ms, error)  # fmt: skip
