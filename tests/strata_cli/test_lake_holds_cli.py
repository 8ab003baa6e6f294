"""`strata lake holds | release` against the real data lake app served over HTTP (SQLite catalog, retention 0).

The CLI runs as an operator would run it (typer), reading its settings and the operator token from the environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from data_lake.entrypoints.app import create_app
from data_lake.settings import Settings
from strata_cli.main import app
from strata_kernel.errors import Conflict
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient
from tests.support import free_port, serve, service_credential_for

TOKEN = "op-lake-s3cret"
runner = CliRunner()


@dataclass
class ServedLake:
    url: str
    var_dir: Path
    writer: LakeClient  # data_processing: writes the table
    engine: LakeClient  # inference_engine: holds what a training run read


def _client(url: str, settings: Settings, caller: str) -> LakeClient:
    credential = service_credential_for(settings, caller)
    return LakeClient(settings.resolved_lake_root(), ServiceClient("data_lake", url, credential=credential))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedLake]:
    """processed.orders at v2 (an overwrite replaced v1), v1 held by two training runs of etd."""
    settings = Settings(var_dir=tmp_path / "var", superseded_retention_seconds=0.0, operator_token=TOKEN)
    server, url = serve(create_app(settings))
    lake = ServedLake(url, settings.var_dir, _client(url, settings, "data_processing"),
                      _client(url, settings, "inference_engine"))  # fmt: skip
    _overwrite(lake, "a")
    lake.engine.hold("processed.orders", 1, "etd training run r1")
    lake.engine.hold("processed.orders", 1, "etd training run r2")
    _overwrite(lake, "b")
    try:
        yield lake
    finally:
        server.shutdown()


def _overwrite(lake: ServedLake, order: str) -> None:
    data = pa.table({"order_id": [order], "nominal_date": ["2024-05-01"]})
    lake.writer.write_arrow("processed.orders", data, partition_column="nominal_date", job="etl", inputs=[],
                            mode="overwrite")  # fmt: skip


def _strata(lake: ServedLake, *args: str, token: str | None = TOKEN, url: str | None = None) -> tuple[int, str]:
    env = {"STRATA_DATA_LAKE_URL": url or lake.url, "STRATA_VAR_DIR": str(lake.var_dir), "COLUMNS": "200",
           "STRATA_OPERATOR_TOKEN": token}  # fmt: skip
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_the_operator_lists_the_holds_releases_them_and_the_next_commit_deletes_the_version(
    served: ServedLake,
) -> None:
    code, output = _strata(served, "lake", "holds", "processed.orders")

    assert code == 0, output
    assert "processed.orders: 2 holds" in output
    rows = [line for line in output.splitlines() if "etd training run" in line]
    assert len(rows) == 2 and all("v1" in row for row in rows)
    assert "etd training run r1" in rows[0] and "etd training run r2" in rows[1]

    for run in ("r1", "r2"):
        code, output = _strata(served, "lake", "release", "processed.orders", "--version", "1", "--holder",
                               f"etd training run {run}")  # fmt: skip
        assert code == 0, output
        assert f"✓ released processed.orders v1 held by etd training run {run}" in output

    code, output = _strata(served, "lake", "holds", "processed.orders")
    assert (code, output.strip()) == (0, "processed.orders: no holds; the retention deletes replaced versions as usual")
    _overwrite(served, "c")
    with pytest.raises(Conflict):
        served.writer.table("processed.orders", version=1)


@pytest.mark.parametrize(
    ("args", "token", "message"),
    [
        (["release", "processed.orders", "--version", "1", "--holder", "etd training run r9"], TOKEN,
         "processed.orders v1 is not held by 'etd training run r9'"),
        (["release", "processed.orders", "--version", "7", "--holder", "x"], TOKEN,
         "table processed.orders has no version 7"),
        (["holds", "processed.nothing"], TOKEN, "table processed.nothing does not exist"),
        (["release", "processed.orders", "--version", "1", "--holder", "etd training run r1"], "wrong",
         "could not release the hold: wrong service credential"),
        (["release", "processed.orders", "--holder", "x"], TOKEN, "--version is required (a table version >= 1)"),
        (["release", "processed.orders", "--version", "1"], TOKEN,
         "--holder is required (1 to 200 characters, as `strata lake holds` shows it)"),
    ],
    ids=["unknown-hold", "unknown-version", "unknown-table", "bad-token", "no-version", "no-holder"],
)  # fmt: skip
def test_a_refusal_is_one_line_and_exit_2_and_the_holds_stay(
    served: ServedLake, args: list[str], token: str, message: str
) -> None:
    code, output = _strata(served, "lake", *args, token=token)

    assert (code, output.strip()) == (2, f"error: {message}")
    assert len(served.engine.holds("processed.orders")) == 2


def test_an_unreachable_lake_exits_1_naming_its_url(served: ServedLake) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, output = _strata(served, "lake", "holds", "processed.orders", url=url)

    assert code == 1
    assert output.startswith("error: data_lake unavailable") and url in output and len(output.splitlines()) == 1
