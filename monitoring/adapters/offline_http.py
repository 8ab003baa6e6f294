"""Feature groups from data_processing's directory, their offline values from the lake's point-in-time read."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

from monitoring.domain.judgement import GroupInfo
from monitoring.ports import FeatureGroups, OfflineFeatures

log = logging.getLogger(__name__)


class HttpFeatureGroups(FeatureGroups):
    """``GET /v1/feature-groups/{name}`` on data_processing (a read: no credential)."""

    def __init__(self, url: str, *, timeout_seconds: float = 5.0, transport: httpx.BaseTransport | None = None):
        self._client = httpx.Client(base_url=url, timeout=timeout_seconds, transport=transport)

    def group(self, name: str) -> GroupInfo | None:
        response = self._client.get(f"/v1/feature-groups/{quote(name, safe='')}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        body = response.json()
        zone = body.get("time_zone")
        return GroupInfo(name, str(body["table"]), str(body["entity"]), str(body["nominal_time"]),
                         str(zone) if zone else None)  # fmt: skip


class HttpOfflineFeatures(OfflineFeatures):
    """``GET /v1/tables/{table}/as-of`` on the data lake (a read: no credential)."""

    def __init__(self, url: str, *, timeout_seconds: float = 30.0, transport: httpx.BaseTransport | None = None):
        self._client = httpx.Client(base_url=url, timeout=timeout_seconds, transport=transport)

    def as_of(self, group: GroupInfo, wanted: list[tuple[str, str]], features: list[str]) -> list[dict[str, Any]]:
        pairs: list[tuple[str, str | int | float | bool | None]] = [
            ("key", group.entity), ("time", group.time), ("columns", ",".join(features))
        ]  # fmt: skip
        if group.time_zone:  # the table's times are that zone's wall clock: the lake reads each instant on it
            pairs.append(("zone", group.time_zone))
        params = httpx.QueryParams(pairs + [("at", f"{ident}@{at}") for ident, at in wanted])
        response = self._client.get(f"/v1/tables/{quote(group.table, safe='')}/as-of", params=params)
        response.raise_for_status()
        rows: list[dict[str, Any]] = response.json()["rows"]
        return rows
