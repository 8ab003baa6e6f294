"""Use cases of model serving: load the serving versions, route each request, predict, hot-reload, re-route.

What serves a model is an immutable Deployment held in a dict that is *replaced*, never mutated: a request
reads the reference once and keeps using those runtimes, so a reload or a new routing swaps atomically while
in-flight requests finish on the old ones. Every routed prediction goes to the prediction log (off the
request path); a shadow copy is scored on a small background executor.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inference_engine.domain.models import ModelVersion, Prediction, ServedModel
from inference_engine.domain.routing import FULL, SHADOW, RoutingRecord, pinned_version, view
from inference_engine.domain.signature import Instance, parse_instances
from inference_engine.errors import ModelNotFound
from inference_engine.helpbot.vectoriser import check_vectoriser
from inference_engine.ports import ModelRegistry
from inference_engine.routing.deployment import Deployment, LoadedModel, RoutedPrediction
from inference_engine.routing.errors import RoutedByRecord, VersionNotLoadable
from inference_engine.routing.ports import NullPredictionLog, PredictionEntry, PredictionLog
from inference_engine.routing.shadow import ShadowExecutor
from inference_engine.routing.validation import check_version
from inference_engine.runtimes import RuntimeFactory, create_runtime
from inference_engine.runtimes.partitioned_runtime import PartitionedRuntime
from strata_kernel.contracts.prediction import ValidationRequest
from strata_kernel.errors import NotFound, StrataError, Unavailable

log = logging.getLogger(__name__)

__all__ = ["LoadedModel", "ModelService", "ServingObserver"]

VERSION_ROUTE = "version"  # metrics label of an explicit /versions/{v}/predict call (not routed, not logged)


class ServingObserver:
    """What serving reports to monitoring; this base reports nothing (metrics.PredictionMetrics does)."""

    def predicted(self, model: str, version: int, route: str, count: int, seconds: float) -> None:
        """``count`` instances scored by ``version`` on ``route`` in ``seconds``."""

    def shadow_failed(self, model: str) -> None:
        """The candidate failed to score a shadow copy."""

    def shadow_dropped(self, model: str) -> None:
        """A shadow copy was skipped: the shadow executor's queue was full."""

    def routing_applied(self, model: str, revision: int) -> None:
        """``revision`` of the model's routing now serves."""


class ModelService:
    def __init__(
        self,
        registry: ModelRegistry,
        *,
        model_names: Sequence[str],
        alias: str = "production",
        work_dir: Path,
        runtime_factory: RuntimeFactory = create_runtime,
        warmup_predictions: int = 3,
        max_cached_versions: int = 4,
        max_instances: int = 1000,
        observer: ServingObserver | None = None,
        prediction_log: PredictionLog | None = None,
        shadow: ShadowExecutor | None = None,
    ) -> None:
        self._registry = registry
        self._names = tuple(model_names)
        self._alias = alias
        self._work_dir = work_dir
        self._runtime_factory = runtime_factory
        self._warmup = warmup_predictions
        self._max_cached = max_cached_versions
        self.max_instances = max_instances
        self._observer = observer if observer is not None else ServingObserver()
        self._log = prediction_log if prediction_log is not None else NullPredictionLog()
        self._shadow = shadow if shadow is not None else ShadowExecutor()
        self._serving: dict[str, Deployment] = {}
        self._problems: dict[str, str] = dict.fromkeys(self._names, f"loading the {alias} version")
        self._versions: OrderedDict[tuple[str, int], LoadedModel] = OrderedDict()
        self._reload_lock = threading.Lock()
        self._version_lock = threading.Lock()

    @property
    def model_names(self) -> tuple[str, ...]:
        return self._names

    @property
    def alias(self) -> str:
        return self._alias

    # --- loading ---------------------------------------------------------------------------------------
    def load_configured(self) -> bool:
        """Load every configured model not loaded yet; True when all are. Failures are kept for /readyz."""
        for name in self._names:
            with contextlib.suppress(StrataError):
                self.load_model(name)
        return all(name in self._serving for name in self._names)

    def load_model(self, name: str) -> None:
        """Load one configured model unless it serves already; a failure is kept for /readyz, then raised."""
        if name in self._serving:
            return
        try:
            self.reload(name)
        except StrataError as exc:
            self._problems[name] = exc.message
            log.warning("model %s not loaded: %s", name, exc.message)
            raise

    def readiness_problem(self) -> str | None:
        missing = [
            f"{name} ({self._problems.get(name, 'not loaded')})" for name in self._names if name not in self._serving
        ]
        return f"models not loaded: {'; '.join(missing)}" if missing else None

    def reload(self, name: str) -> ServedModel:
        """Re-read the alias; load, warm up, then swap the reference (a no-op if the alias has not moved)."""
        with self._reload_lock:  # reloads in turn: a slow older load never overwrites a newer one
            current = self._serving.get(name)
            if current is not None and current.record is not None:
                raise RoutedByRecord(
                    f"model {name} is routed by revision {current.record.revision} of its routing record "
                    "(comparative_eval); change it there, not by moving the alias"
                )
            model_version = self._registry.version_by_alias(name, self._alias)
            if current is not None and current.stable.served.version == model_version.version:
                return current.stable.served
            loaded = self._load(model_version, self._alias)
            self._serving = {**self._serving, name: Deployment.of_alias(loaded)}  # the atomic swap
            self._problems.pop(name, None)
        log.info("serving %s v%d", name, model_version.version)
        return loaded.served

    def apply_routing(self, record: RoutingRecord) -> Deployment:
        """Load and warm every version the record needs, then swap; a record not newer than the applied one is
        ignored (the applied deployment is returned). A load failure leaves the current routing serving."""
        name = record.model
        if name not in self._names:
            raise ModelNotFound(f"model {name} is not served by this engine (served: {', '.join(self._names)})")
        with self._reload_lock:
            current = self._serving.get(name)
            if current is not None and current.record is not None and record.revision <= current.record.revision:
                return current
            reusable = current.by_version if current is not None else {}
            loaded = {v: reusable.get(v) or self._load_for_routing(name, v) for v in sorted(record.versions())}
            stable = loaded[record.stable_version]
            if record.mode == FULL:  # a full record is the new normal: the alias follows it
                self._registry.set_alias(name, self._alias, record.stable_version)
                stable = LoadedModel(replace(stable.served, alias=self._alias), stable.runtime)
                loaded[record.stable_version] = stable
            candidate = None
            if record.mode != FULL and record.candidate_version is not None:
                candidate = loaded[record.candidate_version]
            deployment = Deployment(stable, datetime.now(UTC), record, candidate, loaded)
            self._serving = {**self._serving, name: deployment}  # the atomic swap; unneeded versions are dropped
            self._problems.pop(name, None)
        self._observer.routing_applied(name, record.revision)
        log.info("routing %s revision %d applied: %s", name, record.revision, view(record))
        return deployment

    def applied_revision(self, name: str) -> int:
        """Revision of the applied routing record (0 = none)."""
        current = self._serving.get(name)
        return current.record.revision if current is not None and current.record is not None else 0

    def _load_for_routing(self, name: str, version: int) -> LoadedModel:
        cached = self._versions.get((name, version))  # validated (hence loaded and warm) just before the deploy
        if cached is not None:
            return cached
        model_version = self._registry.version(name, version)
        try:
            return self._load(model_version, alias=None)
        except (NotFound, Unavailable):
            raise
        except Exception as exc:
            raise VersionNotLoadable(f"{name} v{version} could not be loaded: {_describe(exc)}") from exc

    def _load(self, model_version: ModelVersion, alias: str | None) -> LoadedModel:
        started = time.perf_counter()
        self._work_dir.mkdir(parents=True, exist_ok=True)
        # runtimes read the model into memory in load(), so the downloaded files can go right after
        with tempfile.TemporaryDirectory(
            prefix=f"{model_version.name}-v{model_version.version}-", dir=self._work_dir
        ) as tmp:
            runtime = self._runtime_factory(self._registry.fetch(model_version, Path(tmp)))
            runtime.load()
        runtime.warm_up(self._warmup)
        served = ServedModel(
            model_version.name, model_version.version, alias, model_version.features, datetime.now(UTC)
        )
        log.info("loaded %s v%d in %.3fs", model_version.name, model_version.version, time.perf_counter() - started)
        return LoadedModel(served, runtime)

    # --- reading ---------------------------------------------------------------------------------------
    def list_models(self) -> list[ServedModel]:
        return [deployment.stable.served for deployment in self._serving.values()]

    def describe(self, name: str) -> ServedModel:
        return self._deployment(name).stable.served

    def routing(self, name: str) -> dict[str, Any]:
        """The applied routing record and when it was applied (or the alias-derived default)."""
        return self._deployment(name).to_dict(self._alias)

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
            loaded = self._version_model(name, version)
            check_vectoriser(loaded.runtime.metadata(), vectoriser)
            started = time.perf_counter()
            predictions, nodes = _score(loaded, instances)
            self._observer.predicted(name, version, VERSION_ROUTE, len(predictions), time.perf_counter() - started)
            return Prediction(name, loaded.served.version, predictions, nodes)
        deployment = self._deployment(name)
        key = routing_key or request_id
        loaded, route = deployment.choose(key)
        check_vectoriser(loaded.runtime.metadata(), vectoriser)
        prediction = self._answer(deployment, loaded, route, instances, key, request_id)
        if deployment.record is not None and deployment.record.mode == SHADOW and deployment.candidate is not None:
            task = functools.partial(self._score_shadow, deployment.candidate, instances, key, request_id)
            if not self._shadow.submit(task):
                self._observer.shadow_dropped(name)
        return prediction

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
            predictions, nodes = _score(loaded, instances)
            if nodes is not None and deployment.record is not None and deployment.record.node_pins:
                versions = _apply_pins(deployment, version, instances, predictions, nodes)
        except Exception as exc:  # the route failed: logged as an error outcome, then the caller sees it
            self._log.record(_entry(request_id, name, version, route, key, instances, started, error=_describe(exc)))
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
            predictions, nodes = _score(candidate, instances)
        except Exception as exc:
            log.warning("shadow %s v%d failed on request %s: %s", name, version, request_id, _describe(exc))
            self._observer.shadow_failed(name)
            self._log.record(_entry(request_id, name, version, SHADOW, key, instances, started, error=_describe(exc)))
            return
        self._observer.predicted(name, version, SHADOW, len(predictions), time.perf_counter() - started)
        node = nodes[0] if nodes is not None else None
        self._log.record(_entry(request_id, name, version, SHADOW, key, instances, started, node, predictions[0]))

    def validate(self, name: str, version: int, body: object) -> dict[str, Any]:
        """Would ``version`` serve the current traffic? Loads it (and keeps it warm for a deploy); routes nothing."""
        request = ValidationRequest.from_wire(body, self.max_instances)
        serving = self._deployment(name).stable.served
        try:
            loaded = self._version_model(name, version)
        except (NotFound, Unavailable):
            raise
        except Exception as exc:
            return check_version(None, serving.features, request, load_problem=_describe(exc))
        return check_version(loaded, serving.features, request)

    def tree(self, name: str, version: int | None = None) -> dict[str, object]:
        """The node tree of a partitioned model version (the served one by default)."""
        loaded = self._deployment(name).stable if version is None else self._version_model(name, version)
        if not isinstance(loaded.runtime, PartitionedRuntime):
            raise ModelNotFound(f"model {name} v{loaded.served.version} is not a partitioned model (it has no tree)")
        return loaded.runtime.tree()

    def _deployment(self, name: str) -> Deployment:
        deployment = self._serving.get(name)
        if deployment is None and name in self._names:  # configured, still loading (a restart): try again soon
            reason = self._problems.get(name, "loading")
            raise Unavailable(f"model {name} is not ready: {reason}", code="model_loading", retry_after=2)
        if deployment is None:
            raise ModelNotFound(f"model {name} is not loaded")
        return deployment

    def _version_model(self, name: str, version: int) -> LoadedModel:
        serving = self._serving.get(name)
        if serving is not None and version in serving.by_version:
            return serving.by_version[version]
        key = (name, version)
        cached = self._versions.get(key)
        if cached is not None:
            return cached
        with self._version_lock:  # one download per version even when many requests ask at once
            cached = self._versions.get(key)
            if cached is None:
                cached = self._load(self._registry.version(name, version), alias=None)
                self._versions[key] = cached
                while len(self._versions) > self._max_cached:
                    self._versions.popitem(last=False)
            return cached


def _score(loaded: LoadedModel, instances: Sequence[Instance]) -> tuple[list[Any], list[str] | None]:
    if isinstance(loaded.runtime, PartitionedRuntime):  # the answer says which node of the tree scored it
        return loaded.runtime.predict_routed(instances)
    return list(loaded.runtime.predict(instances)), None


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
        scores, pinned_nodes = _score(deployment.by_version[pinned], [instances[i] for i in indices])
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


def _describe(exc: BaseException) -> str:
    return exc.message if isinstance(exc, StrataError) else f"{type(exc).__name__}: {exc}"
