"""Feature groups from data_processing's directory, their offline values from the lake's point-in-time read."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from monitoring.adapters.plain_http import HttpStatusError, JsonReader
from monitoring.domain.judgement import GroupInfo
from monitoring.ports import FeatureGroups, OfflineFeatures

log = logging.getLogger(__name__)


class HttpFeatureGroups(FeatureGroups):
    """``GET /v1/feature-groups/{name}`` on data_processing (a read: no credential)."""

    def __init__(self, url: str, *, timeout_seconds: float = 5.0) -> None:
        self._directory = JsonReader(url, timeout_seconds=timeout_seconds)

    def group(self, name: str) -> GroupInfo | None:
        path = f"/v1/feature-groups/{quote(name, safe='')}"
        status, body = self._directory.get(path)
        if status == 404:
            return None
        if not 200 <= status < 300:
            raise HttpStatusError(status, path)
        zone = body.get("time_zone")
        return GroupInfo(name, str(body["table"]), str(body["entity"]), str(body["nominal_time"]),
                         str(zone) if zone else None)  # fmt: skip


class HttpOfflineFeatures(OfflineFeatures):
    """``GET /v1/tables/{table}/as-of`` on the data lake (a read: no credential)."""

    def __init__(self, url: str, *, timeout_seconds: float = 30.0) -> None:
        self._lake = JsonReader(url, timeout_seconds=timeout_seconds)

    def as_of(self, group: GroupInfo, wanted: list[tuple[str, str]], features: list[str]) -> list[dict[str, Any]]:
        params = [("key", group.entity), ("time", group.time), ("columns", ",".join(features))]
        if group.time_zone:  # the table's times are that zone's wall clock: the lake reads each instant on it
            params.append(("zone", group.time_zone))
        params += [("at", f"{ident}@{at}") for ident, at in wanted]
        path = f"/v1/tables/{quote(group.table, safe='')}/as-of"
        rows: list[dict[str, Any]] = self._lake.get_ok(path, params)["rows"]
        return rows
