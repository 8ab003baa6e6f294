"""The routing table: which loaded versions serve each model now.

A model is served by its alias's version (``production``) until a routing record arrives; then by the record's
versions, each loaded and warmed *before* the swap. Every change replaces the model's Deployment with one reference
swap, so requests never see half of a change.

*Configured* models (the ``models`` setting) are loaded at start and decide readiness. Every other *declared* model
(a ``model_specs/<name>.yaml``) is served too, without a setting: loaded when its first request or routing record
arrives — a team adds a model by declaring it, not by reconfiguring the engine.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from inference_engine.domain.models import ServedModel
from inference_engine.domain.routing import FULL, RoutingRecord, view
from inference_engine.errors import ModelNotFound
from inference_engine.routing.deployment import Deployment, LoadedModel
from inference_engine.routing.errors import RoutedByRecord
from inference_engine.serving.loader import VersionLoader
from inference_engine.serving.observer import ServingObserver
from strata_kernel.errors import StrataError, Unavailable

log = logging.getLogger(__name__)


class RoutingTable:
    def __init__(
        self,
        loader: VersionLoader,
        *,
        model_names: Sequence[str],
        alias: str = "production",
        observer: ServingObserver | None = None,
        declared: Callable[[], Iterable[str]] = tuple,
    ) -> None:
        self._loader = loader
        self._declared = declared  # read again on each use: a model declared after the start is served too
        self._registry = loader.registry
        self._names = tuple(model_names)
        self._alias = alias
        self._observer = observer if observer is not None else ServingObserver()
        self._serving: dict[str, Deployment] = {}
        self._problems: dict[str, str] = dict.fromkeys(self._names, f"loading the {alias} version")
        self._reload_lock = threading.Lock()

    @property
    def model_names(self) -> tuple[str, ...]:
        return self._names

    def served_names(self) -> tuple[str, ...]:
        """Every model this engine answers for: the configured ones, then the declared ones."""
        return tuple(dict.fromkeys((*self._names, *self._declared())))

    def is_declared(self, name: str) -> bool:
        return name not in self._names and name in set(self._declared())

    @property
    def alias(self) -> str:
        return self._alias

    # --- what serves -------------------------------------------------------------------------------------------
    def load_configured(self) -> bool:
        """Load every configured model not loaded yet; True when all are. Failures are kept for /readyz."""
        for name in self._names:
            with contextlib.suppress(StrataError):
                self.load_model(name)
        return all(name in self._serving for name in self._names)

    def load_model(self, name: str) -> None:
        """Load one model's alias version unless it serves already; a failure is kept (for /readyz), then raised."""
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
            loaded = self._loader.load(model_version, self._alias)
            self._serving = {**self._serving, name: Deployment.of_alias(loaded)}  # the atomic swap
            self._problems.pop(name, None)
        log.info("serving %s v%d", name, model_version.version)
        return loaded.served

    def apply_routing(self, record: RoutingRecord) -> Deployment:
        """Load and warm every version the record needs, then swap; a record not newer than the applied one is
        ignored (the applied deployment is returned). A load failure leaves the current routing serving."""
        name = record.model
        if name not in self._names and not self.is_declared(name):
            served = ", ".join(self.served_names())
            raise ModelNotFound(f"model {name} is neither configured nor declared (served: {served})")
        with self._reload_lock:
            current = self._serving.get(name)
            if current is not None and current.record is not None and record.revision <= current.record.revision:
                return current
            reusable = current.by_version if current is not None else {}
            loaded = {v: reusable.get(v) or self._loader.for_routing(name, v) for v in sorted(record.versions())}
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

    # --- reading -----------------------------------------------------------------------------------------------
    def deployment(self, name: str) -> Deployment:
        deployment = self._serving.get(name)
        if deployment is None and name in self._names:  # configured, still loading (a restart): try again soon
            reason = self._problems.get(name, "loading")
            raise Unavailable(f"model {name} is not ready: {reason}", code="model_loading", retry_after=2)
        if deployment is None and self.is_declared(name):  # its first request: load its production version now
            self.load_model(name)
            return self._serving[name]
        if deployment is None:
            raise ModelNotFound(f"model {name} is neither configured nor declared (served: "
                                f"{', '.join(self.served_names())})")  # fmt: skip
        return deployment

    def version(self, name: str, version: int) -> LoadedModel:
        """A version by number: one the model's deployment serves, else loaded on demand (kept warm)."""
        serving = self._serving.get(name)
        if serving is not None and version in serving.by_version:
            return serving.by_version[version]
        return self._loader.explicit(name, version)

    def list_models(self) -> list[ServedModel]:
        return [deployment.stable.served for deployment in self._serving.values()]

    def describe(self, name: str) -> ServedModel:
        return self.deployment(name).stable.served

    def routing(self, name: str) -> dict[str, Any]:
        """The applied routing record and when it was applied (or the alias-derived default)."""
        return self.deployment(name).to_dict(self._alias)

    def tree(self, name: str, version: int | None = None) -> dict[str, object]:
        """The node tree of a partitioned model version (the served one by default)."""
        loaded = self.deployment(name).stable if version is None else self.version(name, version)
        return loaded.runtime.tree()
