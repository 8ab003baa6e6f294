"""Fixtures of data_collection tests: settings under tmp_path, fakes of the collector's ports, a tiny simulation."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from dc_fakes import FakeQuarantine, FakeRawLake

from data_collection.settings import Settings
from data_collection.simulator import Simulation, simulate, size_named


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        var_dir=tmp_path / "var",
        poll_timeout_seconds=0.05,
        idle_seconds=0.05,
        retry_seconds=0.05,
        log_json=False,
    )


@pytest.fixture
def fake_lake() -> FakeRawLake:
    return FakeRawLake()


@pytest.fixture
def fake_quarantine() -> FakeQuarantine:
    return FakeQuarantine()


@pytest.fixture(scope="session")
def tiny_simulation() -> Simulation:
    return simulate(size_named("tiny"), seed=7)


@pytest.fixture(scope="session")
def small_simulation() -> Simulation:
    return simulate(size_named("small"), seed=7)


class _CatalogHandler(BaseHTTPRequestHandler):
    """The commit endpoint of the data_lake API as docs/contracts.md describes it (staged files must exist; the
    catalog moves them into the table)."""

    server: _CatalogServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        table = self.path.split("/")[3]
        missing = [f["path"] for f in body["files"] if not (self.server.lake_root / f["path"]).is_file()]
        if missing:
            self._reply(400, {"error": {"code": "bad_request", "message": f"file {missing[0]} does not exist"}})
            return
        for index, file in enumerate(body["files"]):
            zone, name, _staging, run, partition, _file = file["path"].split("/")
            target = self.server.lake_root / zone / name / partition / f"part-{run}-{index}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            (self.server.lake_root / file["path"]).rename(target)
        self.server.commits.append({"table": table, **body})
        version = sum(1 for c in self.server.commits if c["table"] == table)
        self._reply(201, {"name": table, "version": version, "rows": sum(f["rows"] for f in body["files"])})

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


class _CatalogServer(ThreadingHTTPServer):
    def __init__(self, lake_root: Path) -> None:
        super().__init__(("127.0.0.1", 0), _CatalogHandler)
        self.lake_root = lake_root
        self.commits: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def catalog_server(tmp_path: Path) -> Iterator[_CatalogServer]:
    """A stand-in for the data_lake service's commit API (the real service is another deployable)."""
    server = _CatalogServer(tmp_path / "var" / "lake")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
