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


def test_without_a_terminal_a_long_step_says_what_it_does_every_half_minute() -> None:
    """A CI log or a pipe cannot redraw a line: the step's start, then its latest line at most every 30 s, then
    its end — a training step of several minutes must not look hung."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=100)
    now = [100.0]
    with BuildProgress(console, 2, clock=lambda: now[0]) as progress:
        progress.start("train etd")
        for second, line in ((10, "epoch 1"), (31, '{"msg": "epoch 2 of 60"}'), (45, "epoch 3"), (62, "epoch 4")):
            now[0] = 100.0 + second
            progress.output(line)
        progress.finished("train etd", 75.0)

    assert buffer.getvalue().splitlines() == [
        "  → 1/2 train etd",
        "    … train etd 31s: epoch 2 of 60",
        "    … train etd 62s: epoch 4",
        "  ✓ train etd (75.0s)",
    ]
