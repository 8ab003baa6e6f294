"""``python -m data_collection`` commands through typer's CliRunner, with settings from the environment."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from data_collection.entrypoints.cli import app


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The commands configure logging onto the runner's stderr; give the root logger back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _env(tmp_path: Path, lake_url: str = "http://127.0.0.1:9") -> dict[str, str]:
    return {
        "STRATA_VAR_DIR": str(tmp_path / "var"),
        "STRATA_DATA_LAKE_URL": lake_url,
        "STRATA_POLL_TIMEOUT_SECONDS": "0.05",
        "STRATA_HTTP_RETRIES": "1",
        "STRATA_LOG_JSON": "false",
    }


def _invoke(args: list[str], env: dict[str, str]) -> Any:
    return CliRunner().invoke(app, args, env=env)


def _simulate_tiny(tmp_path: Path) -> Path:
    catalog = tmp_path / "demo" / "catalog.json"
    result = _invoke(["simulate", "--size", "tiny", "--seed", "7", "--catalog-out", str(catalog)], _env(tmp_path))
    assert result.exit_code == 0, result.output
    return catalog


def test_simulate_an_unknown_size_exits_non_zero_with_one_line_of_why(tmp_path: Path) -> None:
    result = _invoke(["simulate", "--size", "nonsense"], _env(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: unknown size 'nonsense'; expected one of tiny, small, full"
    assert not (tmp_path / "var" / "eventlog").exists()  # nothing published


def test_simulate_a_bad_start_date_exits_non_zero_naming_the_option(tmp_path: Path) -> None:
    result = _invoke(["simulate", "--size", "tiny", "--start-date", "06/01/2025"], _env(tmp_path))
    assert result.exit_code == 2 and result.stderr.strip().startswith("error: start-date: expected YYYY-MM-DD")


def test_simulate_publishes_the_events_and_writes_the_catalog(tmp_path: Path) -> None:
    catalog_path = _simulate_tiny(tmp_path)
    catalog = json.loads(catalog_path.read_text())
    assert len(catalog["restaurants"]) == 30 and catalog["restaurants"][0]["id"] == "r-000001"
    for topic in ("etd.order_placed", "etd.order_delivered"):
        lines = (tmp_path / "var" / "eventlog" / topic / "events.jsonl").read_text().splitlines()
        assert len(lines) == 3_000


def test_collect_until_idle_lands_everything_and_exits_zero(tmp_path: Path, catalog_server: Any) -> None:
    _simulate_tiny(tmp_path)
    result = _invoke(["collect", "--until-idle"], _env(tmp_path, catalog_server.url))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["topics"]["etd.order_placed"]["collected"] == 3_000
    assert {c["table"] for c in catalog_server.commits} == {"raw.order_placed", "raw.order_delivered"}
    placed = pq.read_table(tmp_path / "var" / "lake" / "raw" / "order_placed")
    assert placed.num_rows == 3_000 and set(placed.column("nominal_date").to_pylist()) >= {"2025-01-06"}

    again = _invoke(["collect", "--until-idle"], _env(tmp_path, catalog_server.url))
    assert again.exit_code == 0 and json.loads(again.stdout)["topics"]["etd.order_placed"]["collected"] == 0


def test_collect_with_the_lake_down_fails_in_one_line_and_loses_nothing(tmp_path: Path, catalog_server: Any) -> None:
    _simulate_tiny(tmp_path)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        down_url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    failed = _invoke(["collect", "--until-idle"], _env(tmp_path, down_url))
    assert failed.exit_code == 1
    assert failed.stderr.strip().splitlines()[-1].startswith("error: writing raw.order_placed failed: data_lake")

    recovered = _invoke(["collect", "--until-idle"], _env(tmp_path, catalog_server.url))
    assert recovered.exit_code == 0
    assert json.loads(recovered.stdout)["topics"]["etd.order_delivered"]["collected"] == 3_000


def test_serve_refuses_several_workers(tmp_path: Path) -> None:
    result = _invoke(["serve", "--workers", "2"], _env(tmp_path))
    assert result.exit_code == 2 and result.stderr.strip() == (
        "error: --workers must be 1: each worker would run its own collector loop"
    )
