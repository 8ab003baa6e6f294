"""`strata build` shows each step's own progress lines while it runs (not only when it ends)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from strata_cli.devflow import StepFailed, _run_step
from strata_cli.progress import BuildProgress, readable


def test_every_line_a_step_prints_reaches_the_display_and_its_log(tmp_path: Path) -> None:
    seen: list[str] = []

    stdout = _run_step("zen", ["this"], {}, tmp_path, seen.append)

    assert seen[0] == "The Zen of Python, by Tim Peters"
    assert len(seen) == 20 and stdout.startswith("The Zen of Python")
    assert (tmp_path / "build-this.log").read_text().startswith("The Zen of Python")


def test_a_failing_step_names_itself_its_last_line_and_its_log(tmp_path: Path) -> None:
    with pytest.raises(StepFailed, match=r"step 'broken' failed: .*No module named nonexistent.* \(log: "):
        _run_step("broken", ["nonexistent"], {}, tmp_path)


def test_json_log_lines_show_their_message_and_long_lines_are_cut() -> None:
    assert readable('{"level": "INFO", "msg": "epoch 3 of at most 60: validation loss 0.41"}') == (
        "epoch 3 of at most 60: validation loss 0.41"
    )
    assert readable("x" * 200).endswith("…") and len(readable("x" * 200)) == 90


def test_without_a_terminal_only_finished_steps_are_printed() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=100)
    with BuildProgress(console, 2) as progress:
        progress.start("simulate orders")
        progress.output('{"msg": "simulated 100 orders"}')
        progress.finished("simulate orders", 1.25)

    assert buffer.getvalue() == "  ✓ simulate orders (1.2s)\n"
