"""Use cases of model serving: load the serving versions, predict, route to a version, hot-reload.

The served models live in a dict that is *replaced*, never mutated: a request reads the reference once and
keeps using that runtime, so a reload swaps atomically while in-flight requests finish on the old model.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from inference_engine.domain.models import ModelVersion, Prediction, ServedModel
from inference_engine.domain.signature import parse_instances
from inference_engine.errors import ModelNotFound
from inference_engine.ports import ModelRegistry
from inference_engine.runtimes import RuntimeFactory, create_runtime
from inference_engine.runtimes.base import ModelRuntime
from inference_engine.runtimes.partitioned_runtime import PartitionedRuntime
from strata_kernel.errors import StrataError

log = logging.getLogger(__name__)

#: called after each prediction request: (model, version, number of instances, seconds)
PredictionObserver = Callable[[str, int, int, float], None]


def _ignore(_model: str, _version: int, _count: int, _seconds: float) -> None:
    return None


@dataclass(frozen=True)
class LoadedModel:
    served: ServedModel
    runtime: ModelRuntime


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
        observer: PredictionObserver = _ignore,
    ) -> None:
        self._registry = registry
        self._names = tuple(model_names)
        self._alias = alias
        self._work_dir = work_dir
        self._runtime_factory = runtime_factory
        self._warmup = warmup_predictions
        self._max_cached = max_cached_versions
        self.max_instances = max_instances
        self._observe = observer
        self._serving: dict[str, LoadedModel] = {}
        self._problems: dict[str, str] = dict.fromkeys(self._names, f"loading the {alias} version")
        self._versions: OrderedDict[tuple[str, int], LoadedModel] = OrderedDict()
        self._reload_lock = threading.Lock()
        self._version_lock = threading.Lock()

    # --- loading ---------------------------------------------------------------------------------------
    def load_configured(self) -> bool:
        """Load every configured model not loaded yet; True when all are. Failures are kept for /readyz."""
        for name in self._names:
            if name in self._serving:
                continue
            try:
                self.reload(name)
            except StrataError as exc:
                self._problems[name] = exc.message
                log.warning("model %s not loaded: %s", name, exc.message)
        return all(name in self._serving for name in self._names)

    def readiness_problem(self) -> str | None:
        missing = [
            f"{name} ({self._problems.get(name, 'not loaded')})" for name in self._names if name not in self._serving
        ]
        return f"models not loaded: {'; '.join(missing)}" if missing else None

    def reload(self, name: str) -> ServedModel:
        """Re-read the alias; load, warm up, then swap the reference (a no-op if the alias has not moved)."""
        with self._reload_lock:  # reloads in turn: a slow older load never overwrites a newer one
            model_version = self._registry.version_by_alias(name, self._alias)
            current = self._serving.get(name)
            if current is not None and current.served.version == model_version.version:
                return current.served
            loaded = self._load(model_version, self._alias)
            self._serving = {**self._serving, name: loaded}  # the atomic swap
            self._problems.pop(name, None)
        log.info("serving %s v%d", name, model_version.version)
        return loaded.served

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
        return [loaded.served for loaded in self._serving.values()]

    def describe(self, name: str) -> ServedModel:
        return self._serving_model(name).served

    def predict(self, name: str, body: object, version: int | None = None) -> Prediction:
        instances = parse_instances(body, self.max_instances)
        loaded = self._serving_model(name) if version is None else self._version_model(name, version)
        started = time.perf_counter()
        nodes: list[str] | None = None
        if isinstance(loaded.runtime, PartitionedRuntime):  # the answer says which node of the tree scored it
            predictions, nodes = loaded.runtime.predict_routed(instances)
        else:
            predictions = loaded.runtime.predict(instances)
        self._observe(name, loaded.served.version, len(predictions), time.perf_counter() - started)
        return Prediction(name, loaded.served.version, predictions, nodes)

    def tree(self, name: str, version: int | None = None) -> dict[str, object]:
        """The node tree of a partitioned model version (the served one by default)."""
        loaded = self._serving_model(name) if version is None else self._version_model(name, version)
        if not isinstance(loaded.runtime, PartitionedRuntime):
            raise ModelNotFound(f"model {name} v{loaded.served.version} is not a partitioned model (it has no tree)")
        return loaded.runtime.tree()

    def _serving_model(self, name: str) -> LoadedModel:
        loaded = self._serving.get(name)
        if loaded is None:
            raise ModelNotFound(f"model {name} is not loaded")
        return loaded

    def _version_model(self, name: str, version: int) -> LoadedModel:
        serving = self._serving.get(name)
        if serving is not None and serving.served.version == version:
            return serving
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


class BackgroundLoader:
    """Loads the configured models off the request path, retrying until all are served."""

    def __init__(self, service: ModelService, retry_seconds: float) -> None:
        self._service = service
        self._retry_seconds = retry_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="model-loader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self._service.load_configured():
                    return
            except Exception:  # never let the loader die silently: /readyz keeps saying why
                log.exception("loading models failed")
            self._stop.wait(self._retry_seconds)
