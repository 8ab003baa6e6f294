"""`python -m bench footprint [--var-dir DIR] [--start] [--json FILE]`: the memory of a running Strata, per process.

Finds every process of the run that serves ``--var-dir`` (the run id in ``<var-dir>/run/run.json``, carried in each
process's environment), and prints per process its resident set (RSS: shared pages counted in every process that
maps them), its proportional set (PSS: shared pages split between their users, so the PSS column sums to the
stack's real footprint) and its private memory (USS), from ``/proc/<pid>/smaps_rollup``, with the native libraries
it holds (from ``/proc/<pid>/maps``: TensorFlow, XGBoost, Arrow, DuckDB, ...). ``--start`` starts the benchmark
stack (var/bench, as `bench etd` does), sends it a few ETD quotes and chatbot questions so every lazily loaded model
is in memory, measures and stops it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]

#: a native library's path fragment -> what the process holds when it maps it
HOLDS = {
    "_pywrap_tensorflow_internal": "TensorFlow",
    "libtensorflow_framework": "TensorFlow",
    "libxgboost": "XGBoost",
    "libarrow.so": "Arrow",
    "duckdb": "DuckDB",
    "pandas/_libs": "pandas",
    "sklearn/": "scikit-learn",
    "scipy/": "SciPy",
    "_multiarray_umath": "NumPy",
    "psycopg_binary": "psycopg",
    "datasketches": "datasketches",
    "libjvm": "JVM",
}


@dataclass(frozen=True)
class ProcessMemory:
    pid: int
    name: str
    rss_mb: float
    pss_mb: float
    uss_mb: float
    holds: tuple[str, ...]


def run_processes(var_dir: Path) -> list[int]:
    """The CLI and every process carrying the run id of the run recorded in ``var_dir`` (none if no run)."""
    from strata_cli.lifecycle import processes_of

    record = var_dir / "run" / "run.json"
    if not record.exists():
        return []
    data = json.loads(record.read_text())
    pids = set(processes_of(data["run_id"]))
    if Path(f"/proc/{data['cli_pid']}").exists():
        pids.add(int(data["cli_pid"]))
    return sorted(pids)


def measure(pid: int) -> ProcessMemory | None:
    try:
        fields = _rollup(pid)
        maps = Path(f"/proc/{pid}/maps").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        parent = _parent(pid)
    except OSError:
        return None  # gone meanwhile
    holds = tuple(dict.fromkeys(label for fragment, label in HOLDS.items() if fragment in maps))
    return ProcessMemory(
        pid,
        _name([part.decode(errors="replace") for part in cmdline if part], parent),
        fields.get("Rss", 0) / 1024,
        fields.get("Pss", 0) / 1024,
        (fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)) / 1024,
        holds,
    )


def _rollup(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, value = line.partition(":")
        fields[key] = int(value.split()[0])
    return fields


def _parent(pid: int) -> list[str]:
    ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    try:
        return [p.decode(errors="replace") for p in Path(f"/proc/{ppid}/cmdline").read_bytes().split(b"\0") if p]
    except OSError:
        return []


def _name(argv: list[str], parent: list[str]) -> str:
    """A readable name: the deployable, its sidecar, a gunicorn worker (same command line as its parent), ..."""
    if not argv:
        return "?"
    if "-m" in argv and argv.index("-m") + 1 < len(argv):
        module = argv[argv.index("-m") + 1]
        rest = argv[argv.index("-m") + 2 :]
        if module == "monitoring" and "--component" in rest:
            return f"{rest[rest.index('--component') + 1]} sidecar"
        if module == "strata_cli":
            return f"strata {' '.join(rest[:1])} (CLI)"
        role = " worker" if argv == parent else ""
        return f"{module} {' '.join(rest[:1])}{role}".strip()
    program = Path(argv[0]).name
    if program.startswith("python") and len(argv) > 1:
        program = Path(argv[1]).name
    return program


def footprint(var_dir: Path) -> list[ProcessMemory]:
    found = (measure(pid) for pid in run_processes(var_dir))
    return sorted((p for p in found if p is not None), key=lambda p: p.name)


@contextmanager
def _warm_bench_stack() -> Iterator[Path]:
    """The benchmark stack, started and sent a few quotes and questions (lazily loaded models get loaded)."""
    from bench.etd import _orders, _questions, running_strata
    from bench.harness import JsonPoster

    var_dir = ROOT / "var" / "bench"
    with running_strata(var_dir):
        bl = "http://127.0.0.1:18001"
        poster = JsonPoster(bl, 1)
        for order in _orders(bl, 50):
            poster.post("/v1/etd", order)
        for text in _questions(20):
            poster.post("/v1/help/ask", {"text": text})
        yield var_dir


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench footprint", description=__doc__)
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var", help="the var dir of the running stack")
    parser.add_argument("--start", action="store_true", help="start, warm, measure and stop the benchmark stack")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    with _warm_bench_stack() if args.start else nullcontext(args.var_dir.resolve()) as var_dir:
        processes = footprint(var_dir)
    if not processes:
        raise SystemExit(f"no running Strata found for {var_dir} (start one with `strata run`, or pass --start)")
    print_table(processes, var_dir)
    if args.json:
        args.json.write_text(json.dumps([asdict(p) for p in processes], indent=1))


def print_table(processes: list[ProcessMemory], var_dir: Path) -> None:
    import os

    table = Table(title=f"Memory of the Strata serving {var_dir} (load 1m {os.getloadavg()[0]:.1f})")
    for column in ("process", "pid", "RSS MB", "PSS MB", "private MB", "holds (native libraries)"):
        table.add_column(column, justify="left" if column in ("process", "holds (native libraries)") else "right")
    for p in processes:
        table.add_row(p.name, str(p.pid), f"{p.rss_mb:.0f}", f"{p.pss_mb:.0f}", f"{p.uss_mb:.0f}", ", ".join(p.holds))
    table.add_section()
    sidecars = [p for p in processes if p.name.endswith(" sidecar")]
    table.add_row(f"all {len(processes)} processes", "", f"{sum(p.rss_mb for p in processes):.0f}",
                  f"{sum(p.pss_mb for p in processes):.0f}", f"{sum(p.uss_mb for p in processes):.0f}", "")  # fmt: skip
    if sidecars:
        table.add_row(f"{len(sidecars)} sidecars (largest RSS {max(p.rss_mb for p in sidecars):.0f} MB)", "",
                      f"{sum(p.rss_mb for p in sidecars):.0f}", f"{sum(p.pss_mb for p in sidecars):.0f}",
                      f"{sum(p.uss_mb for p in sidecars):.0f}", "")  # fmt: skip
    with_tf = [p.name for p in processes if "TensorFlow" in p.holds]
    table.add_row(f"TensorFlow loaded in {len(with_tf)} process(es)", "", "", "", "", ", ".join(with_tf))
    Console(width=170).print(table)
