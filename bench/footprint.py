"""`python -m bench footprint [--var-dir DIR] [--start] [--json FILE]`: the memory of a running Strata, per process.
`python -m bench footprint --sidecars [--samples N] [--against DIR]`: the sidecar monitors alone.

Finds every process of the run that serves ``--var-dir`` (the run id in ``<var-dir>/run/run.json``, carried in each
process's environment), and prints per process its resident set (RSS: shared pages counted in every process that
maps them), its proportional set (PSS: shared pages split between their users, so the PSS column sums to the
stack's real footprint) and its private memory (USS), from ``/proc/<pid>/smaps_rollup``, with the native libraries
it holds (from ``/proc/<pid>/maps``: TensorFlow, XGBoost, Arrow, DuckDB, ...). ``--start`` starts the benchmark
stack (var/bench, as `bench etd` does), sends it a few ETD quotes and chatbot questions so every lazily loaded model
is in memory, measures and stops it.

``--sidecars`` starts a probe-only sidecar (business_logic's) and the three that run data monitors
(data_processing's, inference_engine's, data_lake's) as `strata run` starts them, against a stub component that
answers every probe, lets them probe a few rounds and answer each route once, and measures them (``--samples``
times); their event log is empty (the figure of an idle sidecar). ``--against DIR`` measures the sidecars of another
checkout (e.g. main, as ``git worktree add --detach /tmp/base main``) in the same run, alternating with this one's.
A sidecar may take at most ``SIDECAR_MB`` RSS (issue 16): every table says whether each kind (probe-only,
data-monitor) does, and sums the sidecars, for each checkout. ``--filled N``: the sidecars whose monitors read the
engine's predictions (data_processing's, inference_engine's) are fed N logged predictions first (event times in the
last minute, the stub engine serving a reference profile) and measured once their windows hold them all and have
been judged: the figure under traffic, with numpy and DataSketches loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from monitoring.bootstrap import DATA_ASPECTS, watches_data
from strata_kernel.contracts import topics
from strata_kernel.loopback import free_port

ROOT = Path(__file__).resolve().parents[1]
#: the most a sidecar that only probes may hold, RSS (issue 16, "a sidecar at most 40 MB")
SIDECAR_MB = 40.0
#: the sidecars ``--sidecars`` starts: one that only probes, one that also runs data monitors
SIDECAR_SAMPLES = ("business_logic", "data_processing", "inference_engine", "data_lake")

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
    #: the other checkout (its folder's name) whose sidecar this is, with ``--against``; "" for this checkout's
    checkout: str = ""


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


class _Healthy(BaseHTTPRequestHandler):
    """A component that answers every probe 200; as the engine, a version's reference profile (``reference``)."""

    reference = b"{}"

    def do_GET(self) -> None:
        body = self.reference if self.path.endswith("/reference") else b'{"status":"ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        """Quiet."""


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            answer.read()
            return int(answer.status)
    except OSError:  # refused while it starts; an HTTPError (503 not ready) is an OSError too
        return 0


def sidecar_memory(
    component: str, code: Path, target: str, rounds_seconds: float = 2.0, filled: int = 0
) -> ProcessMemory:
    """Start ``component``'s sidecar of the checkout ``code`` as `strata run` does (probing every 0.2 s), wait until
    it is ready, let it probe for ``rounds_seconds`` and answer each of its routes once, measure it, stop it. With
    ``filled``, a sidecar that reads predictions is fed that many first (:func:`_fill`)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="strata-footprint-") as var_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_")} | {"STRATA_VAR_DIR": var_dir}
        feeds = filled > 0 and bool(DATA_ASPECTS.get(component))
        if feeds:  # the stub serves the engine's reference profiles (and the skew monitor's reads); judged every second
            urls = ("STRATA_ENGINE_URL", "STRATA_DATA_PROCESSING_URL", "STRATA_DATA_LAKE_URL")
            env |= dict.fromkeys(urls, target) | {"STRATA_MONITOR_EVALUATE_SECONDS": "1"}
        command = [sys.executable, "-m", "monitoring", "sidecar", "--component", component, "--target", target,
                   "--port", str(port), "--interval", "0.2"]  # fmt: skip
        process = subprocess.Popen(command, cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 90
            while _get(f"http://127.0.0.1:{port}/readyz") != 200:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{component}'s sidecar of {code} did not become ready")
                time.sleep(0.1)
            time.sleep(rounds_seconds)
            if feeds:
                _fill(Path(var_dir), f"http://127.0.0.1:{port}", filled)
            for path in ("/metrics", "/v1/probes", "/healthz", "/readyz", "/openapi.json", "/metrics"):
                _get(f"http://127.0.0.1:{port}{path}")
            found = measure(process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)
    if found is None:
        raise RuntimeError(f"{component}'s sidecar of {code} exited before it was measured")
    return replace(found, checkout=code.name if code != ROOT else "")


#: the features of the predictions ``--filled`` feeds (as the monitors' tests: numeric, categorical, the slicing hour)
FILL_FEATURES = ("order__hour_of_day", "order__n_items", "order__subtotal", "order__city_id", "stats__avg_minutes")


def _fill_rows(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "order__hour_of_day": float(rng.randrange(24)),
            "order__n_items": float(rng.randint(1, 6)),
            "order__subtotal": rng.gauss(30, 8),
            "order__city_id": rng.choice(["ams", "rtm", "utr"]),
            "stats__avg_minutes": rng.gauss(35, 5),
        }
        for _ in range(count)
    ]


def _reference_json() -> bytes:
    """The reference profile of 20 000 such rows, as the engine serves it (``--filled``)."""
    import pyarrow as pa

    from strata_kernel.profiles.reference import build_reference

    rows = [row | {"prediction": row["stats__avg_minutes"]} for row in _fill_rows(20_000, seed=7)]
    reference = build_reference(pa.Table.from_pylist(rows), features=FILL_FEATURES, prediction="prediction",
                                slice_by="order__hour_of_day")  # fmt: skip
    return json.dumps(reference.to_dict()).encode()


def _fill(var_dir: Path, sidecar_url: str, count: int, timeout_seconds: float = 300) -> None:
    """Log ``count`` predictions of model etd v3 in the sidecar's event log (times in the last minute), wait until its
    5-minute window holds them all and a judgement or two has run."""
    from strata_kernel.contracts.events import PredictionLogged
    from strata_kernel.eventlog import open_event_log
    from strata_kernel.settings import StrataSettings

    now = time.time()
    events = [
        PredictionLogged(event_id=f"e{i}", event_time=datetime.fromtimestamp(now - 30 + i / count, UTC),
                         request_id=f"r{i}", model="etd", version="3", route="stable", node=None, instance=row,
                         prediction=row["stats__avg_minutes"]).to_wire()
        for i, row in enumerate(_fill_rows(count, seed=1))
    ]  # fmt: skip
    log = open_event_log(StrataSettings(var_dir=var_dir))
    for start in range(0, count, 500):
        log.publish(topics.PREDICTIONS.name, events[start : start + 500], key_field="request_id")
    deadline = time.monotonic() + timeout_seconds
    while _window_samples(sidecar_url) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the sidecar at {sidecar_url} did not read {count} predictions")
        time.sleep(0.5)
    time.sleep(3)  # judged at least once (every second)


def _window_samples(sidecar_url: str) -> float:
    try:
        with urllib.request.urlopen(f"{sidecar_url}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    except OSError:
        return 0.0
    from prometheus_client.parser import text_string_to_metric_families

    return max((sample.value for family in text_string_to_metric_families(text) for sample in family.samples
                if sample.name == "strata_monitor_window_samples" and sample.labels.get("window") == "5m"),
               default=0.0)  # fmt: skip


def sidecars_footprint(samples: int, against: list[Path], filled: int = 0) -> list[ProcessMemory]:
    """Each sample sidecar of this checkout and of every ``against`` checkout, ``samples`` times, alternating."""
    if filled:
        _Healthy.reference = _reference_json()
    component = ThreadingHTTPServer(("127.0.0.1", 0), _Healthy)
    threading.Thread(target=component.serve_forever, daemon=True).start()
    target = f"http://127.0.0.1:{component.server_port}"
    try:
        return [
            sidecar_memory(name, code, target, filled=filled)
            for _ in range(samples)
            for code in (ROOT, *against)
            for name in SIDECAR_SAMPLES
        ]
    finally:
        component.shutdown()
        component.server_close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench footprint", description=__doc__)
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var", help="the var dir of the running stack")
    parser.add_argument("--start", action="store_true", help="start, warm, measure and stop the benchmark stack")
    parser.add_argument("--sidecars", action="store_true", help="start, measure and stop sample sidecars alone")
    parser.add_argument("--samples", type=int, default=3, help="with --sidecars: how many times each is measured")
    parser.add_argument("--against", type=Path, action="append", default=[],
                        help="with --sidecars: another checkout, its sidecars measured in the same run")  # fmt: skip
    parser.add_argument("--filled", type=int, default=0, metavar="N",
                        help="with --sidecars: feed the prediction-reading sidecars N predictions first")  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.sidecars:
        processes = sidecars_footprint(args.samples, [path.resolve() for path in args.against], args.filled)
        title = f"Sidecars started alone, probing a stub component ({args.samples} samples each)"
        if args.filled:
            title += f", data_processing's and inference_engine's fed {args.filled} predictions"
    else:
        with _warm_bench_stack() if args.start else nullcontext(args.var_dir.resolve()) as var_dir:
            processes = footprint(var_dir)
        if not processes:
            raise SystemExit(f"no running Strata found for {var_dir} (start one with `strata run`, or pass --start)")
        title = f"Memory of the Strata serving {var_dir}"
    print_table(processes, title)
    if args.json:
        args.json.write_text(json.dumps([asdict(p) for p in processes], indent=1))


def print_table(processes: list[ProcessMemory], title: str) -> None:
    Console(width=170).print(footprint_table(processes, f"{title} (load 1m {os.getloadavg()[0]:.1f})"))


def footprint_table(processes: list[ProcessMemory], title: str) -> Table:
    """A row per process, then the totals; the sidecars' totals and the 40 MB line once per checkout (this one, then
    each ``--against`` checkout in its order)."""
    table = Table(title=title)
    for column in ("process", "pid", "RSS MB", "PSS MB", "private MB", "holds (native libraries)"):
        table.add_column(column, justify="left" if column in ("process", "holds (native libraries)") else "right")
    for p in processes:
        figures = (f"{p.rss_mb:.1f}", f"{p.pss_mb:.1f}", f"{p.uss_mb:.1f}")
        table.add_row(_shown_name(p), str(p.pid), *figures, ", ".join(p.holds))
    table.add_section()
    table.add_row(f"all {len(processes)} processes", "", f"{sum(p.rss_mb for p in processes):.0f}",
                  f"{sum(p.pss_mb for p in processes):.0f}", f"{sum(p.uss_mb for p in processes):.0f}", "")  # fmt: skip
    checkouts = list(dict.fromkeys(p.checkout for p in processes if p.name.endswith(" sidecar")))
    for checkout in sorted(checkouts, key=bool):  # this checkout's ("") first
        of = f" ({checkout or 'this checkout'})" if checkouts != [""] else ""
        sidecars = [p for p in processes if p.name.endswith(" sidecar") and p.checkout == checkout]
        table.add_row(f"{len(sidecars)} sidecars{of} (largest RSS {max(p.rss_mb for p in sidecars):.0f} MB)", "",
                      f"{sum(p.rss_mb for p in sidecars):.0f}", f"{sum(p.pss_mb for p in sidecars):.0f}",
                      f"{sum(p.uss_mb for p in sidecars):.0f}", "")  # fmt: skip
        for kind, watching in (("probe-only", False), ("data-monitor", True)):
            of_kind = [p.rss_mb for p in sidecars if watches_data(p.name.removesuffix(" sidecar")) is watching]
            if of_kind:
                verdict = "met" if max(of_kind) <= SIDECAR_MB else "NOT met"
                table.add_row(f"{kind} sidecars{of}: largest RSS {max(of_kind):.1f} MB (target {SIDECAR_MB:.0f} MB: "
                              f"{verdict})", "", "", "", "", "")  # fmt: skip
    with_tf = [_shown_name(p) for p in processes if "TensorFlow" in p.holds]
    table.add_row(f"TensorFlow loaded in {len(with_tf)} process(es)", "", "", "", "", ", ".join(with_tf))
    return table


def _shown_name(p: ProcessMemory) -> str:
    return f"{p.name} ({p.checkout})" if p.checkout else p.name
