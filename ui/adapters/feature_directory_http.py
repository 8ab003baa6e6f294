"""FeatureDirectory port over HTTP: data_processing's directory API, relayed unchanged (status and body)."""

from __future__ import annotations

from urllib.parse import quote

from ui.adapters.relay import ServiceRelay
from ui.domain.reply import Reply
from ui.ports import FeatureDirectory


class HttpFeatureDirectory(ServiceRelay, FeatureDirectory):
    service = "data_processing"

    def list_groups(self, text: str) -> Reply:
        return self._relay("GET", "/v1/feature-groups", params={"q": text} if text else None)

    def get_group(self, name: str) -> Reply:
        return self._relay("GET", f"/v1/feature-groups/{quote(name, safe='')}")

    def get_feature(self, expression: str) -> Reply:
        return self._relay("GET", f"/v1/features/{quote(expression, safe='')}")
