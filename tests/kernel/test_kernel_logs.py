"""strata_kernel.logs: where a configured process's log records go."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from strata_kernel.logs import configure_logging


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def test_records_go_to_the_stderr_of_the_moment_not_to_one_closed_since(
    root_logging: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command run in-process (CliRunner) swaps sys.stderr for a buffer and closes it afterwards."""
    first = io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    configure_logging("demo", "INFO", as_json=True)
    logging.getLogger("demo.x").warning("while the command ran")
    first.close()

    now = io.StringIO()
    monkeypatch.setattr("sys.stderr", now)
    logging.getLogger("demo.x").warning("after it")

    lines = now.getvalue().splitlines()
    assert len(lines) == 1, now.getvalue()  # no "--- Logging error ---"
    record = json.loads(lines[0])
    assert record["msg"] == "after it" and record["component"] == "demo" and record["level"] == "WARNING"
