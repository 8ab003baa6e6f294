"""`python -m bench startup [--runs 5] [--hog 0|2] [--code DIR] [--var-dir var]`: how fast and how cleanly
`strata run` starts a built demo, and how much memory the whole stack takes.

Each run starts `strata run` (on the built demo in ``--var-dir``), times it until "Strata is running", samples
the proportional set size (PSS: shared pages counted once, so the sum is the real footprint) of every process it
started, stops it with SIGINT and then looks for survivors (processes of the run, or any of its ports still
bound). ``--hog N`` runs N busy loops during the runs; ``--code DIR`` runs another checkout's CLI (the baseline
of the same run: `git worktree add --detach /tmp/base <commit>`). The load average is printed beside each run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.processes import family, parents

ROOT = Path(__file__).resolve().parents[1]
READY_LINE = "Strata is running"


@dataclass
class StartResult:
    ok: bool
    seconds: float
    peak_pss_mb: float
    peak_rss_mb: float
    ready_pss_mb: float
    load_before: float
    load_after: float
    survivors: int
    bound_ports: int
    why: str


def _children(root: int) -> set[int]:
    """Every live descendant of ``root`` (from /proc's parent pids)."""
    return family([root], parents()) - {root}


def _memory_mb(pids: set[int]) -> tuple[float, float]:
    """Summed PSS (shared pages split between their users: the real footprint) and summed RSS (counts them twice)."""
    pss = rss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
        except OSError:
            continue
    return pss / 1024, rss / 1024


class Sampler:
    """Samples the PSS of the run's process tree every half second; remembers every pid it saw."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peak = 0.0
        self.peak_rss = 0.0
        self.seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def now(self) -> float:
        pids = _children(self.root)
        self.seen |= pids
        pss, rss = _memory_mb(pids)
        self.peak, self.peak_rss = max(self.peak, pss), max(self.peak_rss, rss)
        return pss

    def _run(self) -> None:
        while not self._stop.is_set():
            self.now()
            self._stop.wait(0.5)


def _ports(env: dict[str, str]) -> list[int]:
    ports = [int(v.rsplit(":", 1)[1]) for k, v in env.items() if k.startswith("STRATA_") and k.endswith("_URL")]
    base = int(env.get("STRATA_SIDECAR_BASE_PORT", "9100"))
    return ports + [base + n for n in (*range(8), 12)]


def _bound(ports: list[int]) -> int:
    bound = 0
    for port in ports:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                bound += 1
    return bound


def start_once(code: Path, env: dict[str, str], timeout: float = 900) -> StartResult:
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    cli = subprocess.Popen([sys.executable, "-m", "strata_cli", "run"], cwd=code, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
    assert cli.stdout is not None
    lines: list[str] = []
    ok, seconds = False, 0.0
    with Sampler(cli.pid) as sampler:
        for line in cli.stdout:
            lines.append(line.rstrip())
            if READY_LINE in line:
                ok, seconds = True, time.monotonic() - started
                break
            if time.monotonic() - started > timeout:
                break
        ready_pss = sampler.now() if ok else 0.0
        time.sleep(1.0)
    load_after = os.getloadavg()[0]
    cli.send_signal(signal.SIGINT)
    try:
        cli.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(cli.pid, signal.SIGKILL)
        cli.communicate()
    time.sleep(1.0)
    survivors = [pid for pid in sampler.seen if Path(f"/proc/{pid}").exists() and _not_zombie(pid)]
    why = "" if ok else next((ln for ln in reversed(lines) if "error" in ln.lower()), lines[-1] if lines else "?")
    return StartResult(ok, seconds or time.monotonic() - started, sampler.peak, sampler.peak_rss, ready_pss,
                       load_before, load_after, len(survivors), _bound(_ports(env)), why)  # fmt: skip


def _not_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _busy_loop() -> None:  # pragma: no cover - a CPU hog
    while True:
        pass


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hog", type=int, default=0, help="busy loops running during the starts")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose CLI is started")
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var", help="a built demo")
    parser.add_argument("--label", default="")
    args = parser.parse_args(argv)
    env = {**os.environ, "STRATA_VAR_DIR": str(args.var_dir.resolve()), "COLUMNS": "200"}
    hogs = [multiprocessing.Process(target=_busy_loop, daemon=True) for _ in range(args.hog)]
    for hog in hogs:
        hog.start()
    results = []
    try:
        for _ in range(args.runs):
            results.append(start_once(args.code.resolve(), env))
            time.sleep(3)
    finally:
        for hog in hogs:
            hog.terminate()
    table = Table(title=f"strata run on a built demo: {args.label or args.code} ({args.hog} busy loops, 2 cores)")
    for column in ("run", "ready s", "peak PSS MB", "peak RSS MB", "PSS when ready MB", "load before", "load after",
                   "survivors", "ports bound after", "failure"):  # fmt: skip
        table.add_column(column, justify="left" if column == "failure" else "right")
    for i, r in enumerate(results, 1):
        table.add_row(str(i), f"{r.seconds:.1f}" if r.ok else f"FAILED {r.seconds:.0f}", f"{r.peak_pss_mb:.0f}",
                      f"{r.peak_rss_mb:.0f}", f"{r.ready_pss_mb:.0f}", f"{r.load_before:.2f}",
                      f"{r.load_after:.2f}", str(r.survivors), str(r.bound_ports), r.why[:80])  # fmt: skip
    Console(width=200).print(table)
