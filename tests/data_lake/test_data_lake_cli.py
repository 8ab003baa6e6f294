"""`python -m data_lake tables|show` print what the catalog holds; bad input exits non-zero with one line."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from typer.testing import CliRunner

from data_lake.entrypoints.cli import app as cli
from data_lake.settings import Settings

WriteParquet = Callable[..., dict[str, Any]]  # the write_parquet fixture of conftest.py


@pytest.fixture
def runner(settings: Settings) -> CliRunner:
    return CliRunner(env={"STRATA_VAR_DIR": str(settings.var_dir), "STRATA_CONFIG_FILE": None})


@pytest.fixture
def committed(client: FlaskClient, write_parquet: WriteParquet) -> None:
    file = write_parquet("processed/orders/nominal_date=2024-05-01/a.parquet", "2024-05-01", rows=3)
    body = {
        "partition_column": "nominal_date",
        "schema": [{"name": "order_id", "type": "string"}, {"name": "minutes", "type": "double"}],
        "files": [file],
        "job": "process-orders",
        "inputs": ["raw.order_placed@v1"],
    }
    assert client.post("/v1/tables/processed.orders/commits", json=body).status_code == 201


@pytest.mark.usefixtures("committed")
def test_tables_and_show_print_the_catalog(runner: CliRunner) -> None:
    listed = runner.invoke(cli, ["tables", "--json"])
    assert listed.exit_code == 0, listed.output
    [table] = json.loads(listed.stdout)["tables"]
    assert (table["name"], table["version"], table["rows"], table["partitions"]) == ("processed.orders", 1, 3, 1)

    shown = runner.invoke(cli, ["show", "processed.orders"])
    assert shown.exit_code == 0, shown.output
    for text in (
        "processed.orders",
        "2024-05-01",
        "process-orders",
        "raw.order_placed@v1",
        "double",
        "data_processing",
    ):
        assert text in shown.stdout


def test_show_of_an_unknown_table_exits_1_and_a_bad_name_2_with_one_line(runner: CliRunner) -> None:
    missing = runner.invoke(cli, ["show", "processed.orders"])
    bad = runner.invoke(cli, ["show", "gold.orders"])
    assert (missing.exit_code, bad.exit_code) == (1, 2)
    assert missing.stderr.strip() == "error: table processed.orders does not exist"
    assert bad.stderr.strip().startswith("error: unknown zone 'gold'")
