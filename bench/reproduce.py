"""`python -m bench reproduce [--size tiny] [--cold] [--keep]`: rebuilding past engines with DVC, timed and judged.

Works in a fresh clone of this checkout's HEAD (committed code only) under a scratch directory, with this venv's
interpreter, `dvc` and `strata` and the clone's own code (PYTHONPATH), its own var/ (registry, DVC remote
``var/dvc-remote``) and an empty DVC cache:

1. three past ETD versions trained on different data and params, each from its own commit of the clone:
   v1 = params.yaml as committed; v2 = another simulator seed (other world, other orders) and
   ``max_depth=4``; v3 = a history ending two weeks later and ``n_estimators=150, learning_rate=0.05``.
   Each is `dvc repro train_etd` (its data built from nothing: the baseline time), then `dvc push`; helpbot v1 is
   `dvc repro train_helpbot` the same way;
2. the DVC cache is deleted (`.dvc/cache`: the clean cache of a data scientist on another machine; the data is in
   the remote only), then `strata reproduce MODEL --version N` for each: a scratch worktree at the recorded commit,
   the recorded dvc.lock, `dvc fetch` + `checkout` from the remote, the training again, then the verdict
   (bytes identical / predictions identical on the recorded sample / different);
3. ``--cold``: also etd v1 with the cache and the remote both deleted (every upstream stage rebuilt by dvc repro).

One table: the time to train each version from nothing (the same-run baseline), the time to reproduce it and the
ratio, the verdict and its reason, the load average around each.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Past:
    """One past version: what its commit changes in params.yaml."""

    model: str
    label: str
    demo: dict[str, Any] = field(default_factory=dict)
    hyperparameters: dict[str, Any] = field(default_factory=dict)


PAST = (
    Past("etd", "params.yaml as committed"),
    Past("etd", "seed 11 (other world and orders), max_depth=4", {"seed": 11}, {"max_depth": 4}),
    Past("etd", "seed 7, history 2 weeks later, n_estimators=150, learning_rate=0.05",
         {"seed": 7, "end_date": "2025-02-09", "features_as_of": "2025-02-10"},
         {"n_estimators": 150, "learning_rate": 0.05}),
    Past("helpbot", "help centre of the clone, demo seed 7"),
)  # fmt: skip
STAGES = {"etd": "train_etd", "helpbot": "train_helpbot"}


@dataclass
class Row:
    model: str
    version: int
    label: str
    trained_seconds: float
    trained_load: str
    reproduce_seconds: float = float("nan")
    reproduce_load: str = ""
    cache: str = ""
    verdict: str = "-"
    why: str = ""


class Clone:
    """A fresh clone of HEAD, run with this venv's tools and the clone's own code."""

    def __init__(self, workdir: Path, size: str) -> None:
        self.root = workdir / "strata"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(self.root)], check=True)
        for key, value in (("user.name", "bench"), ("user.email", "bench@localhost")):
            self.git("config", key, value)
        bin_dir = str(Path(sys.executable).parent)
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("STRATA_")}
        self.env.update(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", PYTHONPATH=str(self.root),
                        STRATA_VAR_DIR=str(self.root / "var"), STRATA_LOG_JSON="false")  # fmt: skip
        self.logs = workdir / "logs"
        self.logs.mkdir()
        if size != self.params()["demo"]["size"]:
            self.commit_params(Past("etd", f"demo size {size}", {"size": size}), f"bench: demo size {size}")

    def params(self) -> dict[str, Any]:
        body: dict[str, Any] = yaml.safe_load((self.root / "params.yaml").read_text())
        return body

    def commit_params(self, past: Past, message: str) -> None:
        params = self.params()
        params["demo"].update(past.demo)
        if past.model == "etd":
            params["etd"]["hyperparameters"] = dict(past.hyperparameters)
        (self.root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        self.git("add", "params.yaml", "dvc.lock")
        if self.git("diff", "--cached", "--quiet", check=False).returncode != 0:
            self.git("commit", "-q", "-m", message)

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, check=check)

    def run(self, label: str, *command: str, timeout: float = 3600) -> str:
        """A command in the clone; its output goes to a log, a failure raises with the log's last lines."""
        done = subprocess.run(list(command), cwd=self.root, env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)  # fmt: skip
        log = self.logs / f"{label}.log"
        log.write_text(done.stdout + done.stderr)
        judged = command[:2] == ("strata", "reproduce") and done.returncode == 1  # exit 1: "different"
        if done.returncode != 0 and not judged:
            tail = " | ".join((done.stderr + done.stdout).strip().splitlines()[-3:])
            raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {tail} (log: {log})")
        return done.stdout


#: what `strata stage train_*` prints when it registered a version
REGISTERED = re.compile(r"stage train_\w+ done: (\w+) v(\d+) registered")


def _load() -> float:
    return os.getloadavg()[0]


def _span(before: float, after: float) -> str:
    return f"{min(before, after):.1f}-{max(before, after):.1f}"


def train_past(clone: Clone, console: Console) -> list[Row]:
    rows = []
    for i, past in enumerate(PAST, start=1):
        if i > 1:
            clone.commit_params(past, f"bench: {past.model} trained on {past.label}")
        stage = STAGES[past.model]
        console.print(f"training {past.model} ({past.label}): dvc repro {stage} ...")
        before, started = _load(), time.perf_counter()
        out = clone.run(f"repro-{i}-{stage}", "dvc", "repro", stage)
        seconds, after = time.perf_counter() - started, _load()
        clone.run(f"push-{i}", "dvc", "push")
        registered = REGISTERED.findall(out)
        if not registered or registered[-1][0] != past.model:
            raise RuntimeError(f"dvc repro {stage} registered no {past.model} version (log: {clone.logs})")
        version = int(registered[-1][1])
        console.print(f"  {past.model} v{version} registered ({seconds:.0f} s)")
        rows.append(Row(past.model, version, past.label, seconds, _span(before, after)))
    return rows


def reproduce(clone: Clone, row: Row, cache: str, console: Console) -> Row:
    console.print(f"reproducing {row.model} v{row.version} ({cache}) ...")
    before, started = _load(), time.perf_counter()
    out = clone.run(f"reproduce-{row.model}-v{row.version}-{cache.split()[0]}", "strata", "reproduce", row.model,
                    "--version", str(row.version))  # fmt: skip
    seconds, after = time.perf_counter() - started, _load()
    verdict = json.loads(out.strip().splitlines()[-1])
    console.print(f"  {verdict['verdict']} ({seconds:.0f} s)")
    return Row(row.model, row.version, row.label, row.trained_seconds, row.trained_load, seconds,
               _span(before, after), cache, verdict["verdict"], str(verdict.get("why", "")))  # fmt: skip


def run(size: str, cold: bool, keep: bool) -> tuple[list[Row], str]:
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.strip()  # fmt: skip
    console = Console(stderr=True, highlight=False)
    if dirty:
        console.print("[yellow]uncommitted changes are not part of the clone: the bench runs HEAD[/]")
    workdir = Path(tempfile.mkdtemp(prefix="strata-reproduce-"))
    try:
        clone = Clone(workdir, size)
        head = clone.git("rev-parse", "--short", "HEAD").stdout.strip()
        trained = train_past(clone, console)
        shutil.rmtree(clone.root / ".dvc" / "cache", ignore_errors=True)
        rows = [reproduce(clone, row, "clean cache, remote", console) for row in trained]
        if cold:
            shutil.rmtree(clone.root / ".dvc" / "cache", ignore_errors=True)
            shutil.rmtree(clone.root / "var" / "dvc-remote", ignore_errors=True)
            rows.append(reproduce(clone, trained[0], "no cache, no remote", console))
        return rows, head
    finally:
        if keep:
            console.print(f"work dir kept: {workdir}")
        else:
            _remove_worktrees(workdir / "strata")
            shutil.rmtree(workdir, ignore_errors=True)


def _remove_worktrees(root: Path) -> None:
    if root.is_dir():
        subprocess.run(["git", "worktree", "prune"], cwd=root, capture_output=True, check=False)


def print_table(rows: list[Row], size: str, head: str) -> None:
    table = Table(title=f"strata reproduce: past engines rebuilt with DVC ({size} demo, clone of {head}, 2-core "
                  "machine; baseline: the same version's first training, data built from nothing)")  # fmt: skip
    for column in ("model", "version trained on", "first training (s)", "load", "cache at reproduce",
                   "reproduce (s)", "load", "ratio", "verdict", "why"):  # fmt: skip
        table.add_column(column, justify="right" if column.endswith(("(s)", "ratio")) else "left")
    for r in rows:
        table.add_row(f"{r.model} v{r.version}", r.label, f"{r.trained_seconds:.0f}", r.trained_load, r.cache,
                      f"{r.reproduce_seconds:.0f}", r.reproduce_load, f"{r.reproduce_seconds / r.trained_seconds:.2f}",
                      r.verdict, r.why)  # fmt: skip
    Console(width=220, highlight=False).print(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench reproduce", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--size", default="tiny", choices=("tiny", "small"), help="demo size of every version")
    parser.add_argument("--cold", action="store_true", help="also etd v1 with no cache and no remote")
    parser.add_argument("--keep", action="store_true", help="keep the scratch clone and its logs")
    args = parser.parse_args(argv)
    try:
        rows, head = run(args.size, args.cold, args.keep)
    except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
        Console(stderr=True, highlight=False).print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise SystemExit(1) from None
    print_table(rows, args.size, head)
    if any(r.verdict not in ("bytes identical", "predictions identical") for r in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
