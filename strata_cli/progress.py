"""The live display of ``strata build``: which step runs, for how long, and the last thing it said.

On a terminal: a spinner line per running step with its elapsed time and the step's latest progress line
(training epochs, calibration rounds, partition levels, Spark jobs' log messages); finished steps stay as
``✓ name (12.3s)``. Elsewhere (CI logs, a pipe), where a line cannot be redrawn: a ``→`` line when a step starts,
its latest progress line with the elapsed time at most every ``HEARTBEAT_SECONDS`` while it runs (a training step
of several minutes must not look hung), and the ``✓`` line when it ends.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

_MAX_DETAIL = 90
HEARTBEAT_SECONDS = 30.0


def readable(line: str) -> str:
    """A JSON log line's message (``msg``), else the line itself; cut to fit one terminal line."""
    text = line.strip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and parsed.get("msg"):
            text = str(parsed["msg"])
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


class BuildProgress:
    def __init__(self, console: Console, steps: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._console = console
        self._steps = steps
        self._clock = clock
        self._done = 0
        self._name = ""
        self._started = self._last_said = 0.0
        self._task: TaskID | None = None
        self._progress = (
            Progress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True
            )
            if console.is_terminal
            else None
        )

    def __enter__(self) -> BuildProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def start(self, name: str) -> None:
        self._name = name
        self._started = self._last_said = self._clock()
        if self._progress is not None:
            self._task = self._progress.add_task(self._title(), total=None)
        else:
            self._console.print(f"  → {self._title()}")

    def output(self, line: str) -> None:
        detail = readable(line)
        if self._progress is not None:
            if self._task is not None:
                self._progress.update(self._task, description=f"{self._title()} [dim]{escape(detail)}[/]")
            return
        now = self._clock()
        if detail and now - self._last_said >= HEARTBEAT_SECONDS:
            self._last_said = now
            self._console.print(f"    … {escape(self._name)} {now - self._started:.0f}s: {escape(detail)}")

    def finished(self, name: str, seconds: float) -> None:
        self._done += 1
        if self._progress is not None and self._task is not None:
            self._progress.remove_task(self._task)
            self._task = None
        self._console.print(f"  [green]✓[/green] {name} ({seconds:.1f}s)")

    def _title(self) -> str:
        return f"[bold]{self._done + 1}/{self._steps}[/] {escape(self._name)}"
