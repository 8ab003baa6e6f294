"""The data lake's commit checks over its API (a read: no credential)."""

from __future__ import annotations

from typing import Any

from monitoring.adapters.plain_http import JsonReader
from monitoring.domain.lake import LakeFinding
from monitoring.ports import LakeChecks


class HttpLakeChecks(LakeChecks):
    def __init__(self, lake_url: str, *, timeout_seconds: float = 5.0) -> None:
        self._lake = JsonReader(lake_url, timeout_seconds=timeout_seconds)

    def after(self, check_id: int) -> list[LakeFinding]:
        return self._get({"after": str(check_id), "limit": "1000"})

    def quarantined(self) -> list[LakeFinding]:
        return self._get({"quarantined": "true"})

    def _get(self, params: dict[str, str]) -> list[LakeFinding]:
        body = self._lake.get_ok("/v1/commit-checks", params)
        return [_finding(item) for item in body.get("checks", [])]


def _finding(item: dict[str, Any]) -> LakeFinding:
    return LakeFinding(
        id=int(item["id"]),
        table=str(item["table"]),
        run_id=str(item.get("run_id") or ""),
        field=str(item.get("field") or ""),
        reason=str(item["reason"]),
        quarantined=bool(item.get("quarantined")),
    )
