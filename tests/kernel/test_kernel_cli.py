"""strata_kernel.cli: a failing command prints one line on stderr; 2 for bad input, 1 for anything else."""

from __future__ import annotations

import pytest
import typer
from pydantic import BaseModel
from typer.testing import CliRunner

from strata_kernel.cli import one_line_errors
from strata_kernel.errors import BadRequest, NotFound


class _Limits(BaseModel):
    batch_size: int


def _raise(outcome: str) -> None:
    if outcome == "bad-request":
        raise BadRequest("must be between 1 and 10", field="batch_size")
    if outcome == "not-found":
        raise NotFound("table processed.orders does not exist", field="table")
    if outcome == "os-error":
        raise FileNotFoundError("no such file: catalog.json\nsecond line of detail")
    if outcome == "bad-settings":
        _Limits.model_validate({"batch_size": "lots"})


app = typer.Typer()


@app.command()
def run(outcome: str) -> None:
    with one_line_errors("demo"):
        _raise(outcome)
    typer.echo("done")


def _invoke(outcome: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [outcome])
    return result.exit_code, result.stdout, result.stderr


def test_success_exits_0_and_prints_the_result() -> None:
    assert _invoke("ok") == (0, "done\n", "")


def test_bad_request_exits_2_with_one_line_naming_the_field() -> None:
    assert _invoke("bad-request") == (2, "", "error: demo: batch_size: must be between 1 and 10\n")


@pytest.mark.parametrize(
    ("outcome", "line"),
    [
        ("not-found", "error: demo: table processed.orders does not exist"),  # field "table": already named
        ("os-error", "error: demo: no such file: catalog.json"),
    ],
)
def test_other_failures_exit_1_with_their_first_line(outcome: str, line: str) -> None:
    exit_code, stdout, stderr = _invoke(outcome)
    assert (exit_code, stdout, stderr.splitlines()) == (1, "", [line])


def test_invalid_settings_exit_2_naming_the_setting() -> None:
    exit_code, _, stderr = _invoke("bad-settings")
    assert exit_code == 2
    assert stderr.splitlines() == [
        "error: demo: settings: batch_size: Input should be a valid integer, unable to parse string as an integer"
    ]
