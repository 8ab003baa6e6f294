"""Load-generation helpers: sequential and concurrent request loops, percentile summaries."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psutil
import urllib3


@dataclass(frozen=True)
class Summary:
    label: str
    requests: int
    concurrency: int
    p50_ms: float
    p99_ms: float
    throughput_rps: float
    errors: int


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class JsonPoster:
    """A keep-alive JSON POST client with little overhead of its own (urllib3)."""

    def __init__(self, base_url: str, concurrency: int = 1, headers: dict[str, str] | None = None) -> None:
        self._pool = urllib3.connection_from_url(base_url, maxsize=concurrency, block=True)
        self._headers = {"Content-Type": "application/json", **(headers or {})}

    def post(self, path: str, body: object) -> tuple[int, bytes]:
        response = self._pool.urlopen("POST", path, body=json.dumps(body).encode(), headers=self._headers)
        return response.status, response.data


def measure(
    label: str,
    call: Callable[[int], int],
    *,
    requests: int,
    concurrency: int = 1,
) -> Summary:
    """Run ``call(i)`` ``requests`` times over ``concurrency`` threads (closed loop); ``call`` returns the HTTP
    status, an exception counts as an error."""
    latencies, elapsed, errors = closed_loop(call, requests=requests, concurrency=concurrency)
    return Summary(
        label=label,
        requests=requests,
        concurrency=concurrency,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        throughput_rps=requests / elapsed,
        errors=errors,
    )


def run_in_subprocess(module: str, function: str, *args: str) -> dict[str, Any]:
    """``module.function(*args)`` in a fresh interpreter (its own peak memory, its own SparkSession); returns the
    JSON it prints last. Spark workers run this interpreter and bind loopback only."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    code = f"import json, {module} as m; print(json.dumps(m.{function}(*{list(args)!r})))"
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{function}{args} failed: {done.stderr.strip().splitlines()[-3:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def peak_mb(pid: int | str = "self") -> float:
    """A process's peak resident memory (VmHWM) in MB; 0 when it is gone."""
    from pathlib import Path

    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class ServerCpu:
    """The CPU time (user + system) the servers listening on some ports have used: each listening process and its
    children (a gunicorn master and its workers). Read before and after a slice, the difference is what the servers
    spent on it: on a shared machine a request's CPU moves far less with the background load than its latency."""

    def __init__(self, ports: Sequence[int]) -> None:
        self._ports = set(ports)
        self._processes: dict[int, psutil.Process] = {}

    def seconds(self) -> float:
        if not self._processes:
            self._processes = self._find()
        total = 0.0
        for pid, process in list(self._processes.items()):
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:  # a worker that was replaced: look again next time
                self._processes.pop(pid)
                continue
            total += times.user + times.system
        return total

    def _find(self) -> dict[int, psutil.Process]:
        listening = {
            c.pid
            for c in psutil.net_connections("tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port in self._ports and c.pid
        }
        found: dict[int, psutil.Process] = {}
        for pid in listening:
            with contextlib.suppress(psutil.NoSuchProcess):
                process = psutil.Process(pid)
                for member in [process, *process.children(recursive=True)]:
                    found[member.pid] = member
        return found


@dataclass
class Slices:
    """Latencies of one target gathered over several interleaved slices, with the load average of each slice and
    the CPU its servers used (when they are known)."""

    label: str
    concurrency: int
    latencies: list[float]
    seconds: float = 0.0
    errors: int = 0
    loads: list[float] | None = None
    cpu_seconds: float | None = None

    def add(self, latencies: list[float], seconds: float, errors: int, cpu_seconds: float | None = None) -> None:
        self.latencies.extend(latencies)
        self.seconds += seconds
        self.errors += errors
        self.loads = [*(self.loads or []), os.getloadavg()[0]]
        if cpu_seconds is not None:
            self.cpu_seconds = (self.cpu_seconds or 0.0) + cpu_seconds

    @property
    def cpu_ms_per_request(self) -> float | None:
        """Server CPU per request (ms), over every slice."""
        if self.cpu_seconds is None or not self.latencies:
            return None
        return self.cpu_seconds * 1000 / len(self.latencies)

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000 if self.latencies else float("nan")

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def load(self) -> str:
        loads = self.loads or [0.0]
        return f"{min(loads):.1f}-{max(loads):.1f}"


def closed_loop(call: Callable[[int], int], *, requests: int, concurrency: int) -> tuple[list[float], float, int]:
    """``requests`` calls over ``concurrency`` threads, each sending its next one when its last one is answered;
    returns (latencies in seconds, elapsed seconds, errors). An exception counts as an error."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker() -> None:
        nonlocal errors
        local: list[float] = []
        local_errors = 0
        while (i := _next(counter, lock)) is not None:
            started = time.perf_counter()
            local_errors += _status(call, i) >= 400
            local.append(time.perf_counter() - started)
        with lock:
            latencies.extend(local)
            errors += local_errors

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started, errors


def open_loop(
    call: Callable[[int], int], *, rate: float, seconds: float, senders: int = 64
) -> tuple[list[float], float, int]:
    """Requests sent at a fixed ``rate`` whatever the answers do (open loop); returns (latencies, elapsed, errors).

    Free of coordinated omission: each request has its intended start ``i / rate`` on a fixed schedule and its
    latency is counted from that instant, so a slow answer that delays the sending of later requests (all senders
    busy, or this generator itself late) shows in their latencies instead of thinning the load.
    """
    total = max(1, int(rate * seconds))
    todo: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    results: list[tuple[float, int]] = []
    lock = threading.Lock()
    start = time.perf_counter() + 0.05

    def sender() -> None:
        while (i := todo.get()) is not None:
            status = _status(call, i)
            latency = time.perf_counter() - (start + i / rate)
            with lock:
                results.append((latency, status))

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for i in range(total):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        todo.put(i)
    for _ in threads:
        todo.put(None)
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return [latency for latency, _ in results], elapsed, sum(status >= 400 for _, status in results)


def _next(counter: Any, lock: threading.Lock) -> int | None:
    with lock:
        return next(counter, None)


def _status(call: Callable[[int], int], i: int) -> int:
    try:
        return call(i)
    except Exception:  # a refused or broken connection is an error of the target, not of the benchmark
        return 599
