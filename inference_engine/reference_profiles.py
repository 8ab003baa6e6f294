"""Use case: hand a version's reference profile to the monitors (they must not load MLflow themselves).

A sidecar asks its component over loopback once per served version; the document is read from the version's run
artifacts (``profile/reference.json``) and kept for the few versions asked last.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from inference_engine.errors import VersionNotFound
from inference_engine.ports import ModelDocuments, ModelRegistry
from strata_kernel.profiles.reference import ARTIFACT_PATH


class ReferenceProfiles:
    def __init__(self, registry: ModelRegistry, documents: ModelDocuments | None, *, keep: int = 8) -> None:
        self._registry = registry
        self._documents = documents
        self._keep = keep
        self._cache: OrderedDict[tuple[str, int], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, name: str, version: int) -> dict[str, Any]:
        """The ``strata.reference`` document of ``name`` v``version``; VersionNotFound (404) if it has none."""
        key = (name, version)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        if self._documents is None:
            raise VersionNotFound("this engine's registry stores no reference profiles")
        document = self._documents.document(self._registry.version(name, version), ARTIFACT_PATH)
        with self._lock:
            self._cache[key] = document
            while len(self._cache) > self._keep:
                self._cache.popitem(last=False)
        return document
