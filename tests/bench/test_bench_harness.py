"""The load generators of `bench etd`: the open loop keeps its schedule and counts a stall in every request it
delays (no coordinated omission), the CPU of a path's servers is read from their processes; `bench footprint` names a
stack's processes and what they hold."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from io import StringIO

import psutil
from rich.console import Console

from bench.footprint import ProcessMemory, _name, footprint_table, measure
from bench.harness import ServerCpu, closed_loop, open_loop
from tests.support import free_port

# a child that spins for 0.4 s of CPU when its parent forwards a line, then says so
_SPINNER = (
    "import sys, time\n"
    "print('ready', flush=True)\n"
    "sys.stdin.readline()\n"
    "end = time.process_time() + 0.4\n"
    "while time.process_time() < end:\n"
    "    pass\n"
    "print('spun', flush=True)\n"
    "time.sleep(60)\n"
)
# a server: listens on the port, starts the spinner as its child (as a gunicorn master its worker)
_SERVER = (
    "import socket, subprocess, sys\n"
    "listener = socket.create_server(('127.0.0.1', int(sys.argv[1])))\n"
    "child = subprocess.Popen([sys.executable, '-c', sys.argv[2]], stdin=subprocess.PIPE, text=True)\n"
    "child.stdin.write(sys.stdin.readline())\n"
    "child.stdin.flush()\n"
    "child.wait()\n"
)


def test_open_loop_counts_a_stall_in_the_requests_it_delays() -> None:
    stalled = threading.Event()

    def call(i: int) -> int:
        if i == 10 and not stalled.is_set():  # one answer takes 300 ms; one sender only, so the next ones wait
            stalled.set()
            time.sleep(0.3)
        return 200

    latencies, elapsed, errors = open_loop(call, rate=100, seconds=1.0, senders=1)

    assert (len(latencies), errors) == (100, 0)
    assert sum(latency > 0.1 for latency in latencies) >= 10  # the requests queued behind it waited, and it shows
    assert elapsed < 1.6


def test_closed_loop_counts_errors_and_exceptions() -> None:
    def call(i: int) -> int:
        if i % 10 == 0:
            raise ConnectionError("refused")
        return 503 if i % 10 == 1 else 200

    latencies, _elapsed, errors = closed_loop(call, requests=50, concurrency=4)

    assert (len(latencies), errors) == (50, 10)


def test_footprint_measures_a_process_and_names_workers_and_sidecars() -> None:
    me = measure(os.getpid())
    assert me is not None
    assert me.rss_mb > 0 and 0 < me.pss_mb <= me.rss_mb + 1
    serve = ["python", "-m", "inference_engine", "serve", "--port", "8003"]
    assert _name(serve, ["supervisord"]) == "inference_engine serve"
    assert _name(serve, serve) == "inference_engine serve worker"
    sidecar = ["python", "-m", "monitoring", "sidecar", "--component", "ui", "--target", "http://x"]
    assert _name(sidecar, ["supervisord"]) == "ui sidecar"


def _rendered_rows(processes: list[ProcessMemory]) -> list[list[str]]:
    """The table as printed: each body row's cells."""
    out = StringIO()
    Console(file=out, width=170).print(footprint_table(processes, "sidecars"))
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in out.getvalue().splitlines() if "│" in line]


def test_footprint_table_sums_and_judges_the_sidecars_of_each_checkout() -> None:
    """`bench footprint --sidecars --against DIR`: the other checkout's sidecars get their own totals and their own
    40 MB verdict, instead of being left out of both."""

    def sidecar(component: str, rss: float, checkout: str = "") -> ProcessMemory:
        return ProcessMemory(1, f"{component} sidecar", rss, rss - 10, rss - 12, (), checkout)

    here = [sidecar("business_logic", 38.0), sidecar("data_processing", 60.0)]
    base = [sidecar("business_logic", 45.5, "base"), sidecar("data_processing", 62.0, "base")]

    rows = _rendered_rows([here[0], base[0], here[1], base[1]])

    assert ["business_logic sidecar (base)", "1", "45.5", "35.5", "33.5", ""] in rows
    assert ["2 sidecars (this checkout) (largest RSS 60 MB)", "", "98", "78", "74", ""] in rows
    assert ["2 sidecars (base) (largest RSS 62 MB)", "", "108", "88", "84", ""] in rows
    verdicts = [row[0] for row in rows if row[0].startswith(("probe-only", "data-monitor"))]
    assert verdicts == [  # every sidecar may take 40 MB: each kind judged, per checkout
        "probe-only sidecars (this checkout): largest RSS 38.0 MB (target 40 MB: met)",
        "data-monitor sidecars (this checkout): largest RSS 60.0 MB (target 40 MB: NOT met)",
        "probe-only sidecars (base): largest RSS 45.5 MB (target 40 MB: NOT met)",
        "data-monitor sidecars (base): largest RSS 62.0 MB (target 40 MB: NOT met)",
    ]
    alone = _rendered_rows(here)  # no other checkout: the lines name none
    assert ["2 sidecars (largest RSS 60 MB)", "", "98", "78", "74", ""] in alone
    assert [row[0] for row in alone if row[0].startswith("probe-only")] == [
        "probe-only sidecars: largest RSS 38.0 MB (target 40 MB: met)"
    ]


def test_server_cpu_counts_what_the_listening_process_and_its_children_spend_and_nothing_else() -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", _SERVER, str(port), _SPINNER],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert server.stdin is not None and server.stdout is not None
    try:
        assert server.stdout.readline().strip() == "ready"  # the child is up: its start-up is not measured
        cpu = ServerCpu([port])
        before = cpu.seconds()
        end = time.process_time() + 0.3  # this process spins too: it listens on no port, so it is not counted
        while time.process_time() < end:
            pass
        server.stdin.write("go\n")
        server.stdin.flush()
        assert server.stdout.readline().strip() == "spun"
        spent = cpu.seconds() - before
    finally:
        for child in psutil.Process(server.pid).children(recursive=True):
            child.kill()
        server.kill()
        server.wait(timeout=10)
    assert 0.35 <= spent < 0.65
