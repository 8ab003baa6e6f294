"""The live display of ``strata build``: which step runs, for how long, and the last thing it said.

On a terminal: a spinner line per running step with its elapsed time and the step's latest progress line
(training epochs, calibration rounds, partition levels, Spark jobs' log messages); finished steps stay as
``✓ name (12.3s)``. Elsewhere (CI logs, a pipe): only the ``✓`` lines, one per finished step.
"""

from __future__ import annotations

import json

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

_MAX_DETAIL = 90


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
    def __init__(self, console: Console, steps: int) -> None:
        self._console = console
        self._steps = steps
        self._done = 0
        self._name = ""
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
        if self._progress is not None:
            self._task = self._progress.add_task(self._title(), total=None)

    def output(self, line: str) -> None:
        if self._progress is not None and self._task is not None:
            detail = readable(line)
            self._progress.update(self._task, description=f"{self._title()} [dim]{escape(detail)}[/]")

    def finished(self, name: str, seconds: float) -> None:
        self._done += 1
        if self._progress is not None and self._task is not None:
            self._progress.remove_task(self._task)
            self._task = None
        self._console.print(f"  [green]✓[/green] {name} ({seconds:.1f}s)")

    def _title(self) -> str:
        return f"[bold]{self._done + 1}/{self._steps}[/] {escape(self._name)}"
