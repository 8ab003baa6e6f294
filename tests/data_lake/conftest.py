"""Fixtures of the data lake's API tests: the real app over an SQLite catalog and Parquet files in tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apiflask import APIFlask
from flask.testing import FlaskClient

from data_lake.entrypoints.app import create_app
from data_lake.settings import Settings
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient
from tests.support import as_caller, service_credential_for

WriteParquet = Callable[..., dict[str, Any]]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path / "var")


@pytest.fixture
def lake_root(settings: Settings) -> Path:
    return settings.resolved_lake_root()


@pytest.fixture
def app(settings: Settings) -> APIFlask:
    return create_app(settings)


@pytest.fixture
def client(app: APIFlask, settings: Settings) -> FlaskClient:
    """A test client calling as data_processing (a writer of tables)."""
    return as_caller(app.test_client(), settings, "data_processing")


@pytest.fixture
def lake(app: APIFlask, lake_root: Path, settings: Settings) -> Iterator[LakeClient]:
    """The kernel's client, talking to the app in-process through httpx's WSGI transport (as data_processing)."""
    credential = service_credential_for(settings, "data_processing")
    catalog = ServiceClient("data_lake", "http://lake", credential=credential, transport=httpx.WSGITransport(app=app))
    yield LakeClient(lake_root, catalog)
    catalog.close()


@pytest.fixture
def write_parquet(lake_root: Path) -> WriteParquet:
    """Stage a tiny Parquet file for ``<zone>/<table>/<column>=<value>/<file>`` in staging run ``run``; returns its
    commit entry (the staged path, relative to the lake root)."""

    def write(path: str, partition: str, rows: int = 2, run: str = "r1", **columns: list[Any]) -> dict[str, Any]:
        data = columns or {"order_id": [f"o-{i}" for i in range(rows)], "minutes": [float(i) for i in range(rows)]}
        table = pa.table(data)
        zone, name, rest = path.split("/", 2)
        staged = f"{zone}/{name}/_staging/{run}/{rest}"
        target = lake_root / staged
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, target)
        return {"path": staged, "partition": partition, "rows": table.num_rows}

    return write
