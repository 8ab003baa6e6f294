"""The data lake's commit checks over its API (a read: no credential)."""

from __future__ import annotations

from typing import Any

import httpx

from monitoring.domain.judgement import LakeFinding
from monitoring.ports import LakeChecks


class HttpLakeChecks(LakeChecks):
    def __init__(self, lake_url: str, *, timeout_seconds: float = 5.0, transport: httpx.BaseTransport | None = None):
        self._client = httpx.Client(base_url=lake_url, timeout=timeout_seconds, transport=transport)

    def after(self, check_id: int) -> list[LakeFinding]:
        return self._get({"after": str(check_id), "limit": "1000"})

    def quarantined(self) -> list[LakeFinding]:
        return self._get({"quarantined": "true"})

    def _get(self, params: dict[str, str]) -> list[LakeFinding]:
        response = self._client.get("/v1/commit-checks", params=params)
        response.raise_for_status()
        return [_finding(item) for item in response.json().get("checks", [])]


def _finding(item: dict[str, Any]) -> LakeFinding:
    return LakeFinding(
        id=int(item["id"]),
        table=str(item["table"]),
        run_id=str(item.get("run_id") or ""),
        field=str(item.get("field") or ""),
        reason=str(item["reason"]),
        quarantined=bool(item.get("quarantined")),
    )
