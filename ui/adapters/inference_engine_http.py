"""ModelTrees port over HTTP: the inference engine's tree API, relayed unchanged (status and body)."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from strata_kernel.http import ServiceClient
from ui.domain.reply import Reply
from ui.ports import ModelTrees


class HttpModelTrees(ModelTrees):
    def __init__(
        self,
        base_url: str,
        *,
        timeout_seconds: float = 2.0,
        retries: int = 2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = ServiceClient(
            "inference_engine", base_url, timeout_seconds=timeout_seconds, retries=retries, transport=transport
        )

    def get_tree(self, name: str, version: str | None) -> Reply:
        # the version is the engine's to judge (a bad one is its 400), so it goes through as given
        params = {"version": version} if version is not None else None
        status, body = self._client.relay("GET", f"/v1/models/{quote(name, safe='')}/tree", params=params)
        return Reply(status=status, body=body)

    def close(self) -> None:
        self._client.close()
