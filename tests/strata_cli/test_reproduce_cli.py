"""`strata reproduce`: bad input is refused with one line before anything is rebuilt."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from strata_cli.main import app
from strata_cli.reproduce import lake_rebuild, upstream_stages
from strata_cli.settings import Settings


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["reproduce", "etd"], "give exactly one of --version N or --at TIME"),
        (["reproduce", "etd", "--version", "1", "--at", "2025-01-01T00:00:00Z"], "give exactly one of"),
        (["reproduce", "etd", "--version", "0"], "--version must be >= 1"),
        (["reproduce", "churn", "--version", "1"], "no DVC stage trains churn; reproducible models: etd, helpbot"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, args, env={"STRATA_VAR_DIR": str(tmp_path), "COLUMNS": "200"})

    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_deploy_without_an_operator_token_is_refused_before_rebuilding(tmp_path: Path) -> None:
    env = {"STRATA_VAR_DIR": str(tmp_path), "COLUMNS": "200", "STRATA_OPERATOR_TOKEN": ""}
    result = CliRunner().invoke(app, ["reproduce", "etd", "--version", "1", "--deploy"], env=env)

    assert result.exit_code == 2 and "no operator token" in result.output
    assert not (tmp_path / "reproduce").exists()


@pytest.mark.parametrize(("stage", "before"), [("train_etd", ["training_set"]), ("train_helpbot", ["help_text"])])
def test_the_rebuild_brings_back_what_the_training_reads_without_training_twice(stage: str, before: list[str]) -> None:
    # the training stage itself is run once, forced, after them
    assert upstream_stages(Path(__file__).parents[2] / "dvc.yaml", stage) == before


def recorded(table_dir: Path, train_args: str | None = '["--no-partitions", "--param=max_depth=3"]') -> dict[str, str]:
    tags = {"provenance.lake_tables": '{"processed.etd_training_set":4}', "provenance.seed": "7",
            "provenance.lake_table_dir": str(table_dir)}  # fmt: skip
    if train_args is not None:
        tags["provenance.train_args"] = train_args
    return tags


def test_a_version_trained_on_this_lake_is_trained_again_on_the_table_version_it_read(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path)
    rebuild = lake_rebuild(settings, recorded(tmp_path / "lake" / "processed" / "etd_training_set"))

    assert rebuild is not None
    assert rebuild.args == ["--no-partitions", "--param=max_depth=3", "--table-version", "4"]
    assert (rebuild.tables, rebuild.seed) == ({"processed.etd_training_set": 4}, "7")


@pytest.mark.parametrize(
    ("where", "train_args"),
    [
        ("pipeline/train_etd/lake/processed/etd_training_set", "[]"),  # a DVC stage's scratch lake
        ("lake/processed/etd_training_set", None),  # trained before the options were recorded
    ],
)
def test_other_versions_are_rebuilt_through_dvc(where: str, train_args: str | None, tmp_path: Path) -> None:
    assert lake_rebuild(Settings(var_dir=tmp_path), recorded(tmp_path / where, train_args)) is None
