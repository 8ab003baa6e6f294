"""ModelTrees port over HTTP: the inference engine's model API (models, versions, tree), relayed unchanged."""

from __future__ import annotations

from urllib.parse import quote

from ui.adapters.relay import ServiceRelay
from ui.domain.reply import Reply
from ui.ports import ModelTrees


class HttpModelTrees(ServiceRelay, ModelTrees):
    service = "inference_engine"

    def get_tree(self, name: str, version: str | None) -> Reply:
        # the version is the engine's to judge (a bad one is its 400), so it goes through as given
        params = {"version": version} if version is not None else None
        return self._relay("GET", f"/v1/models/{quote(name, safe='')}/tree", params=params)

    def list_models(self) -> Reply:
        return self._relay("GET", "/v1/models")

    def versions(self, name: str) -> Reply:
        return self._relay("GET", f"/v1/models/{quote(name, safe='')}/versions")
