"""Version loading: fetch a registered version, load its runtime, warm it up; keep a few explicit versions warm."""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path

from inference_engine.domain.models import ModelVersion, ServedModel
from inference_engine.ports import ModelRegistry
from inference_engine.routing.deployment import LoadedModel
from inference_engine.routing.errors import VersionNotLoadable
from inference_engine.runtimes import RuntimeFactory, create_runtime
from strata_kernel.errors import NotFound, StrataError, Unavailable

log = logging.getLogger(__name__)


class VersionLoader:
    def __init__(
        self,
        registry: ModelRegistry,
        *,
        work_dir: Path,
        runtime_factory: RuntimeFactory = create_runtime,
        warmup_predictions: int = 3,
        max_cached_versions: int = 4,
    ) -> None:
        self.registry = registry
        self._work_dir = work_dir
        self._runtime_factory = runtime_factory
        self._warmup = warmup_predictions
        self._max_cached = max_cached_versions
        #: versions asked for by number (explicit predicts, validation), newest last
        self._versions: OrderedDict[tuple[str, int], LoadedModel] = OrderedDict()
        self._version_lock = threading.Lock()

    def load(self, model_version: ModelVersion, alias: str | None) -> LoadedModel:
        """Fetch, load and warm ``model_version`` (its files are read into memory, then deleted)."""
        started = time.perf_counter()
        self._work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(
            prefix=f"{model_version.name}-v{model_version.version}-", dir=self._work_dir
        ) as tmp:
            runtime = self._runtime_factory(self.registry.fetch(model_version, Path(tmp)))
            runtime.load()
        runtime.warm_up(self._warmup)
        served = ServedModel(
            model_version.name, model_version.version, alias, model_version.features, datetime.now(UTC)
        )
        log.info("loaded %s v%d in %.3fs", model_version.name, model_version.version, time.perf_counter() - started)
        return LoadedModel(served, runtime)

    def for_routing(self, name: str, version: int) -> LoadedModel:
        """A version a routing record needs: the one validation just warmed, else a fresh load."""
        cached = self._versions.get((name, version))
        if cached is not None:
            return cached
        model_version = self.registry.version(name, version)
        try:
            return self.load(model_version, alias=None)
        except (NotFound, Unavailable):
            raise
        except Exception as exc:
            raise VersionNotLoadable(f"{name} v{version} could not be loaded: {describe(exc)}") from exc

    def explicit(self, name: str, version: int) -> LoadedModel:
        """A version asked for by number, kept warm among the ``max_cached_versions`` most recent."""
        key = (name, version)
        cached = self._versions.get(key)
        if cached is not None:
            return cached
        with self._version_lock:  # one download per version even when many requests ask at once
            cached = self._versions.get(key)
            if cached is None:
                cached = self.load(self.registry.version(name, version), alias=None)
                self._versions[key] = cached
                while len(self._versions) > self._max_cached:
                    self._versions.popitem(last=False)
            return cached


def describe(exc: BaseException) -> str:
    return exc.message if isinstance(exc, StrataError) else f"{type(exc).__name__}: {exc}"
