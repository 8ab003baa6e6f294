"""Fakes at data_processing's ports (and at the data_lake catalog's HTTP API) for tests."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from data_processing.domain.online import FeatureValue, OnlineRow, OnlineVersion, Prediction, online_record
from data_processing.errors import InferenceEngineUnavailable
from data_processing.ports import InferenceEngine, OnlineStore
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient, split_table_name

_COMMITS = re.compile(r"^/v1/tables/([a-z_]+\.[a-z0-9_]+)/commits$")
_TABLE = re.compile(r"^/v1/tables/([a-z_]+\.[a-z0-9_]+)$")


class FakeCatalog:
    """The data_lake catalog API in memory: versions, lineage, and overwrite deleting superseded files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tables: dict[str, dict[str, Any]] = {}

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and (match := _COMMITS.match(request.url.path)):
            return self._commit(match.group(1), json.loads(request.content))
        if request.method == "GET" and (match := _TABLE.match(request.url.path)):
            table = self.tables.get(match.group(1))
            if table is None:
                return httpx.Response(404, json={"error": {"code": "not_found", "message": "unknown table"}})
            return httpx.Response(200, json=table)
        return httpx.Response(404, json={"error": {"code": "not_found", "message": request.url.path}})

    def _commit(self, name: str, body: dict[str, Any]) -> httpx.Response:
        zone, short = split_table_name(name)
        for file in body["files"]:
            if not (self.root / file["path"]).is_file():
                return httpx.Response(
                    400, json={"error": {"code": "bad_request", "message": f"{file['path']} missing"}}
                )
        body = {**body, "files": [self._move_in(index, file) for index, file in enumerate(body["files"])]}
        previous = self.tables.get(name)
        rows = sum(f["rows"] for f in body["files"])
        if body["mode"] == "overwrite" and previous is not None:
            kept = {f["path"] for f in body["files"]}
            for old in previous["_files"]:
                if old not in kept:
                    (self.root / old).unlink(missing_ok=True)
        elif previous is not None:
            rows += previous["rows"]
        version = (previous["version"] if previous else 0) + 1
        commits = [*(previous["commits"] if previous else []), {"version": version, "job": body["job"],
                   "inputs": body["inputs"], "mode": body["mode"], "rows": rows,
                   "continuous": body.get("continuous", False)}]  # fmt: skip
        files = [f["path"] for f in body["files"]] + ([] if body["mode"] == "overwrite" or not previous
                                                       else previous["_files"])  # fmt: skip
        self.tables[name] = {"name": name, "zone": zone, "location": f"{zone}/{short}", "schema": body["schema"],
                             "partition_column": body["partition_column"], "version": version, "rows": rows,
                             "partitions": [], "commits": commits, "_files": files,
                             "files": [{"path": path} for path in files]}  # fmt: skip
        return httpx.Response(201, json={"name": name, "version": version, "rows": rows})

    def _move_in(self, index: int, file: dict[str, Any]) -> dict[str, Any]:
        """Like the real catalog: ``<t>/_staging/<run>/<col>=<v>/<f>`` -> ``<t>/<col>=<v>/part-<run>-<i>.parquet``."""
        zone, table, _staging, run, partition, _name = file["path"].split("/")
        target = f"{zone}/{table}/{partition}/part-{run}-{index}.parquet"
        (self.root / target).parent.mkdir(parents=True, exist_ok=True)
        (self.root / file["path"]).rename(self.root / target)
        return {**file, "path": target}


def fake_lake(root: Path) -> tuple[LakeClient, FakeCatalog]:
    catalog = FakeCatalog(root.resolve())
    client = ServiceClient("data_lake", "http://data-lake.test", transport=httpx.MockTransport(catalog.handle))
    return LakeClient(root, client), catalog


class InMemoryOnlineStore(OnlineStore):
    """Reference implementation of the OnlineStore contract (the contract suite runs on it too)."""

    def __init__(self) -> None:
        self._versions: dict[str, OnlineVersion] = {}
        self._rows: dict[str, dict[str, dict[str, Any]]] = {}

    def load_version(self, group: str, rows: Iterable[OnlineRow]) -> int:
        from data_processing.errors import OnlineStoreLoadFailed

        try:
            loaded = {row.entity_id: online_record(row) for row in rows}
        except Exception as exc:
            raise OnlineStoreLoadFailed(f"online load of {group} failed: {exc}") from exc
        version = self._versions[group].version + 1 if group in self._versions else 1
        newest = max((r["feature_time"] for r in loaded.values()), default=None)
        self._rows[group] = loaded
        self._versions[group] = OnlineVersion(group, version, len(loaded), datetime.now(), newest)
        return version

    def get(self, group: str, entity_id: str) -> dict[str, Any] | None:
        found = self._rows.get(group, {}).get(entity_id)
        return dict(found) if found is not None else None

    def get_many(self, groups: Sequence[str], entity_id: str) -> dict[str, dict[str, Any] | None]:
        return {group: self.get(group, entity_id) for group in groups}

    def current_version(self, group: str) -> OnlineVersion | None:
        return self._versions.get(group)

    def put_rows(self, group: str, rows: Iterable[OnlineRow]) -> None:
        """Streaming upsert into the current version (version 1 on first use), all rows at once."""
        updates = {row.entity_id: online_record(row) for row in rows}
        current = self._rows.setdefault(group, {})
        current.update(updates)
        previous = self._versions.get(group)
        times = [r["feature_time"] for r in updates.values()]
        if previous is not None and previous.newest_feature_time is not None:
            times.append(previous.newest_feature_time)
        version = previous.version if previous is not None else 1
        self._versions[group] = OnlineVersion(group, version, len(current), datetime.now(), max(times, default=None))


class RecordingInferenceEngine(InferenceEngine):
    """Predicts a fixed number and remembers every instance it was sent."""

    def __init__(self, value: float = 31.5, *, down: bool = False) -> None:
        self.value = value
        self.down = down
        self.instances: list[dict[str, FeatureValue]] = []
        self.routing_keys: list[str | None] = []

    def predict(
        self, model: str, instances: Sequence[Mapping[str, FeatureValue]], routing_key: str | None = None
    ) -> list[Prediction]:
        self.routing_keys.append(routing_key)
        if self.down:
            raise InferenceEngineUnavailable("inference engine unavailable: connection refused")
        self.instances.extend(dict(i) for i in instances)
        return [Prediction(model, "3", self.value) for _ in instances]
