"""`python -m bench hostile [--var-dir DIR] [--examples N] [--only crafted,fuzz,kill]`: the hostile-input campaign.

Runs against a running Strata (`strata run`; URLs from the usual ``STRATA_*_URL`` settings) and prints, per part:
- ``fuzz``: schemathesis over every service's OpenAPI document (seeded, bounded): requests, 5xx, time-outs;
- ``crafted``: the crafted bad inputs (lake overwrite attack, YAML alias bomb, deep JSON, lone
  surrogates, NULs, bad request ids, Unicode digit versions, a 44 MB basket, invented methods, a refused body);
- ``kill``: SIGKILL of the inference engine's master under 50 quotes/s: seconds of 503, p99 after recovery and
  prediction events lost.
The campaign is destructive on purpose (it replays the lake attack): point it at a throw-away stack.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pyarrow.parquet as pq

from bench.harness import percentile
from strata_cli.settings import Settings
from strata_kernel.contracts.auth import AUTHORIZATION, read_operator_token

SERVICES = ("ui", "business_logic", "data_processing", "inference_engine", "data_lake", "comparative_eval",
            "data_collection")  # fmt: skip


@dataclass
class Outcome:
    case: str
    status: str
    seconds: float
    verdict: str
    detail: str = ""


@dataclass
class Campaign:
    urls: dict[str, str]
    var_dir: Path
    operator: str | None
    with_credential: bool = False  # the attacker has none; --with-credential fuzzes behind the door as well
    outcomes: list[Outcome] = field(default_factory=list)

    def auth(self) -> dict[str, str]:
        return {AUTHORIZATION: f"Bearer {self.operator}"} if self.with_credential and self.operator else {}

    def url(self, service: str) -> str:
        return self.urls[service]

    def record(self, case: str, status: object, seconds: float, verdict: str, detail: str = "") -> None:
        self.outcomes.append(Outcome(case, str(status), seconds, verdict, detail))
        print(f"  {case:<44} {status!s:>8} {seconds:8.2f}s  {verdict}  {detail}", flush=True)


def _send(method: str, url: str, timeout: float = 30.0, **kwargs: Any) -> tuple[object, float, str]:
    started = time.perf_counter()
    try:
        response = httpx.request(method, url, timeout=timeout, **kwargs)
    except httpx.TimeoutException:
        return "timeout", time.perf_counter() - started, ""
    except httpx.TransportError as exc:
        return type(exc).__name__, time.perf_counter() - started, ""
    return response.status_code, time.perf_counter() - started, response.text[:160]


def _verdict(status: object, good: Callable[[int], bool] = lambda s: 400 <= s < 500) -> str:
    if isinstance(status, int):
        return "ok" if good(status) else ("5xx" if status >= 500 else "wrong")
    return str(status)


# --- the lake attack ------------------------------------------------------------------------------------------
def lake_files(var_dir: Path, table: str) -> tuple[int, int, int]:
    """(files, rows, bytes) on disk under the table's committed partitions."""
    zone, name = table.split(".")
    paths = sorted((var_dir / "lake" / zone / name).glob("*=*/*.parquet"))
    rows = sum(pq.read_metadata(p).num_rows for p in paths)
    return len(paths), rows, sum(p.stat().st_size for p in paths)


def lake_attack(c: Campaign) -> None:
    table = "raw.order_placed"
    before = lake_files(c.var_dir, table)
    info = httpx.get(f"{c.url('data_lake')}/v1/tables/{table}", timeout=10)
    if info.status_code == 200:
        files = [(p["value"]) for p in info.json()["partitions"]]
        location = info.json()["location"]
    else:  # reads need a credential now: find a committed file on disk
        files, location = [], "raw/order_placed"
    victim = sorted((c.var_dir / "lake" / location).glob("*=*/*.parquet"))[0]
    relative = str(victim.relative_to(c.var_dir / "lake"))
    body = {"partition_column": "nominal_date", "schema": [{"name": "order_id", "type": "string"}],
            "files": [{"path": relative, "partition": victim.parent.name.split("=", 1)[1], "rows": 10**15}],
            "mode": "overwrite", "job": "attacker", "inputs": []}  # fmt: skip
    status, seconds, _ = _send("POST", f"{c.url('data_lake')}/v1/tables/{table}/commits", json=body, headers=c.auth())
    after = lake_files(c.var_dir, table)
    changed = "data changed" if after != before else "every byte still there"
    who = "with the operator's token" if c.auth() else "anonymous"
    c.record(f"lake overwrite attack ({who})", status, seconds, _verdict(status),
             f"{before[0]} files/{before[1]} rows -> {after[0]}/{after[1]}: {changed}")  # fmt: skip
    _ = files


# --- YAML alias bomb ------------------------------------------------------------------------------------------
def alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    # every field valid, the description an alias of the last level: str() of it expands 9**levels strings
    lines += ["name: bomb", "entity: restaurant_id", "owner: x", f"description: *a{levels - 1}", "source: a.b",
              "table: features.bomb", "code: bomb.py", "nominal_time: t", "ttl: 2d", "schedule: daily",
              "freshness_slo: 26h", "features: [{name: f, type: int64, description: d}]"]  # fmt: skip
    return "\n".join(lines)


def yaml_bomb(c: Campaign, levels: int) -> None:
    bomb = alias_bomb(levels)
    quotes = QuoteProbe(c.url("business_logic"))
    quotes.start()
    status, seconds, _ = _send("POST", f"{c.url('data_processing')}/v1/feature-groups",
                               json={"yaml": bomb, "code": "x = 1"}, timeout=120, headers=c.auth())  # fmt: skip
    quotes.stop()
    c.record(f"YAML alias bomb ({len(bomb)} bytes, {levels} levels)", status, seconds, _verdict(status),
             f"quotes meanwhile: {quotes.summary()}")  # fmt: skip


class QuoteProbe:
    """One ETD quote every 200 ms in the background: what a user sees while an admin call runs."""

    def __init__(self, business_logic: str) -> None:
        self._url = business_logic
        self._stop = threading.Event()
        self._latencies: list[float] = []
        self._failures = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._body: dict[str, Any] | None = None

    def start(self) -> None:
        restaurants = httpx.get(f"{self._url}/v1/restaurants", params={"limit": 1}, timeout=10).json()["restaurants"]
        menu = httpx.get(f"{self._url}/v1/restaurants/{restaurants[0]['id']}", timeout=10).json()["menu"]
        self._body = {"restaurant_id": restaurants[0]["id"], "basket": [{"item_id": menu[0]["item_id"], "quantity": 1}]}
        self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    ok = client.post(f"{self._url}/v1/etd", json=self._body).status_code == 200
                except httpx.TransportError:
                    ok = False
                self._latencies.append(time.perf_counter() - started)
                self._failures += 0 if ok else 1
                self._stop.wait(0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def summary(self) -> str:
        if not self._latencies:
            return "none"
        return (f"{len(self._latencies)} sent, {self._failures} failed, max {max(self._latencies) * 1000:.0f} ms, "
                f"p50 {percentile(self._latencies, 50) * 1000:.0f} ms")  # fmt: skip


# --- malformed JSON, strings and headers ------------------------------------------------------------------------
JSON_ENDPOINTS = (
    ("business_logic", "/v1/etd"), ("business_logic", "/v1/help/ask"), ("ui", "/api/etd"),
    ("data_processing", "/v1/etd/estimate"), ("data_processing", "/v1/help/answer"),
    ("data_processing", "/v1/feature-groups"), ("inference_engine", "/v1/models/etd/predict"),
    ("data_lake", "/v1/tables/raw.order_placed/commits"), ("comparative_eval", "/v1/deployments/etd/deploy"),
)  # fmt: skip


def deep_json(c: Campaign, depth: int = 100_000) -> None:
    body = ("[" * depth + "]" * depth).encode()
    fives = 0
    worst = 0.0
    statuses: list[str] = []
    for service, path in JSON_ENDPOINTS:
        status, seconds, _ = _send("POST", c.url(service) + path, content=body,
                                   headers={"Content-Type": "application/json", **c.auth()})  # fmt: skip
        fives += isinstance(status, int) and status >= 500
        worst = max(worst, seconds)
        statuses.append(str(status))
    c.record(f"deep JSON (depth {depth}) x{len(JSON_ENDPOINTS)} endpoints", "/".join(sorted(set(statuses))), worst,
             "ok" if fives == 0 else f"{fives} x 5xx")  # fmt: skip


def strings(c: Campaign) -> None:
    bl = c.url("business_logic")
    cases: list[tuple[str, str, str, bytes, dict[str, str]]] = [
        ("lone surrogate in help text", "POST", f"{bl}/v1/help/ask", b'{"text": "where is \\ud800 my order"}', {}),
        ("NUL in help text", "POST", f"{bl}/v1/help/ask", b'{"text": "where is \\u0000 my order"}', {}),
        (
            "lone surrogate in restaurant id",
            "POST",
            f"{bl}/v1/etd",
            b'{"restaurant_id": "\\udfff", "basket": [{"item_id": "x", "quantity": 1}]}',
            {},
        ),
        ("NUL in feedback path", "POST", f"{bl}/v1/help/questions/a%00b/feedback", b'{"helpful": true}', {}),
    ]
    for case, method, url, content, extra in cases:
        status, seconds, _ = _send(method, url, content=content, headers={"Content-Type": "application/json", **extra})
        c.record(case, status, seconds, _verdict(status))


def request_ids(c: Campaign) -> None:
    """A request id travels to the next hop (business logic -> data processing) and into databases."""
    body = b'{"text": "where is my order"}'
    for case, value in (("non-ASCII X-Request-ID", "réq-ü".encode()), ("X-Request-ID of 300 chars", b"r" * 300),
                        ("control chars in X-Request-ID", b"a\x01b")):  # fmt: skip
        head = [b"Content-Type: application/json", b"Content-Length: %d" % len(body), b"X-Request-ID: " + value]
        status, seconds = raw_request(c.url("business_logic"), b"POST /v1/help/ask HTTP/1.1", head, body=body)
        c.record(case, status, seconds, _verdict(status, lambda s: s < 500))


def customer_id(c: Campaign) -> None:
    probe = QuoteProbe(c.url("business_logic"))
    restaurants = httpx.get(f"{c.url('business_logic')}/v1/restaurants", params={"limit": 1}, timeout=10).json()
    rid = restaurants["restaurants"][0]["id"]
    menu = httpx.get(f"{c.url('business_logic')}/v1/restaurants/{rid}", timeout=10).json()["menu"]
    body = {"restaurant_id": rid, "basket": [{"item_id": menu[0]["item_id"], "quantity": 1}], "customer_id": "kundé-ü"}
    status, seconds, text = _send("POST", f"{c.url('business_logic')}/v1/etd", json=body)
    c.record("non-ASCII customer_id", status, seconds, _verdict(status, lambda s: s in (200, 400)), text[:60])
    _ = probe


def versions(c: Campaign) -> None:
    engine, lake = c.url("inference_engine"), c.url("data_lake")
    cases: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"{engine}/v1/models/etd/tree?version=%C2%B2", None),
        ("POST", f"{engine}/v1/models/etd/versions/%C2%B2/predict", {"instances": [{}]}),
        ("GET", f"{lake}/v1/tables/raw.order_placed/profile?version=%C2%B2", None),
        ("GET", f"{lake}/v1/tables/raw.order_placed/diff?from=%D9%A1", None),
    ]
    statuses, fives, worst = [], 0, 0.0
    for method, url, body in cases:
        status, seconds, _ = _send(method, url, json=body, headers=c.auth())
        statuses.append(str(status))
        fives += isinstance(status, int) and status >= 500
        worst = max(worst, seconds)
    c.record("Unicode digit versions x4", "/".join(sorted(set(statuses))), worst,
             "ok" if fives == 0 else f"{fives} x 5xx")  # fmt: skip


def big_basket(c: Campaign, megabytes: int = 44) -> None:
    line = b'{"item_id": "i-000001-01", "quantity": 1},'
    count = megabytes * 1024 * 1024 // len(line)
    body = b'{"restaurant_id": "r-000001", "basket": [' + line * count + b'{"item_id": "x", "quantity": 1}]}'
    status, seconds, _ = _send("POST", f"{c.url('business_logic')}/v1/etd", content=body,
                               headers={"Content-Type": "application/json"}, timeout=120)  # fmt: skip
    c.record(f"{len(body) // 2**20} MB basket", status, seconds, _verdict(status, lambda s: s == 413))


def invented_methods(c: Campaign, count: int = 1000) -> None:
    target = c.url("data_processing")
    before = _series(target)
    started = time.perf_counter()
    statuses: set[str] = set()
    with httpx.Client(timeout=10) as client:
        for i in range(count):
            try:
                statuses.add(str(client.request(f"X{i:04d}", f"{target}/v1/etd/estimate").status_code))
            except httpx.TransportError as exc:
                statuses.add(type(exc).__name__)
    added = _series(target) - before
    c.record(f"{count} invented HTTP methods", "/".join(sorted(statuses)), time.perf_counter() - started,
             "ok" if added < 50 else "unbounded", f"{added} new metric series")  # fmt: skip


def _series(base: str) -> int:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


def refused_body(c: Campaign, attempts: int = 10) -> None:
    """A POST whose Content-Length announces 1 MB but sends 64 kB and waits: a refusal must end the exchange."""
    target = c.url("comparative_eval")
    worst = 0.0
    statuses = set()
    for _ in range(attempts):
        head = (b"POST /v1/deployments/etd/deploy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1048576\r\n\r\n")  # fmt: skip
        status, seconds = raw_request(target, None, [], raw=head + b"{" + b" " * 65535, read_timeout=30)
        statuses.add(str(status))
        worst = max(worst, seconds)
    c.record(f"refused before body x{attempts}", "/".join(sorted(statuses)), worst,
             "ok" if worst < 2 else "hangs", "worst time to an answer")  # fmt: skip


def raw_request(base: str, request_line: bytes | None, headers: list[bytes], *, raw: bytes | None = None,
                body: bytes = b"", read_timeout: float = 10.0) -> tuple[object, float]:  # fmt: skip
    parts = urlsplit(base)
    started = time.perf_counter()
    with socket.create_connection((parts.hostname, parts.port), timeout=read_timeout) as sock:
        if raw is None:
            assert request_line is not None
            raw = b"\r\n".join([request_line, b"Host: x", *headers, b"Connection: close", b"", b""]) + body
        try:
            sock.sendall(raw)
            data = sock.recv(4096)
        except TimeoutError:
            return "timeout", time.perf_counter() - started
        except OSError as exc:
            return type(exc).__name__, time.perf_counter() - started
    try:
        return int(data.split(b" ", 2)[1]), time.perf_counter() - started
    except (IndexError, ValueError):
        return "no answer", time.perf_counter() - started


# --- schemathesis ---------------------------------------------------------------------------------------------
def fuzz(c: Campaign, examples: int, seed: int, workdir: Path) -> None:
    st = Path(sys.executable).with_name("st")
    for service in SERVICES:
        report = workdir / f"fuzz-{service}"
        report.mkdir(parents=True, exist_ok=True)
        for stale in report.glob("har-*.json"):  # an earlier run's requests are not this run's
            stale.unlink()
        started = time.perf_counter()
        command = [str(st), "run", f"{c.url(service)}/openapi.json", "--max-examples", str(examples), "--seed",
                   str(seed), "--checks", "not_a_server_error,response_schema_conformance", "--request-timeout", "10",
                   "--workers", "2", "--report", "har", "--report-dir", str(report), "--no-color",
                   "--phases", "examples,coverage,fuzzing"]  # fmt: skip
        for name, value in c.auth().items():
            command += ["-H", f"{name}: {value}"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
        sent, fives, timeouts = _har_counts(report)
        problems = _failures(done.stdout)
        c.record(f"schemathesis {service}", f"{sent} req", time.perf_counter() - started,
                 f"{fives} x 5xx, {timeouts} without an answer (time-out or transport error)", problems)  # fmt: skip


def _har_counts(report: Path) -> tuple[int, int, int]:
    sent = fives = timeouts = 0
    for har in report.glob("har-*.json"):
        for entry in json.loads(har.read_text())["log"]["entries"]:
            sent += 1
            status = entry["response"]["status"]
            fives += status >= 500
            timeouts += status in (0, -1)
    return sent, fives, timeouts


def _failures(stdout: str) -> str:
    lines = [line.strip() for line in stdout.splitlines() if line.strip().startswith(("❌", "FAILED", "_ "))]
    summary = [line.strip() for line in stdout.splitlines() if "failures" in line.lower() or "passed" in line.lower()]
    return "; ".join((lines + summary)[-3:])[:200]


# --- SIGKILL of the engine under load --------------------------------------------------------------------------
def engine_kill(
    c: Campaign, rate: float = 50.0, before: float = 10.0, after: float = 60.0, sig: signal.Signals = signal.SIGKILL
) -> None:
    from bench.rollout_load import FixedRateLoad, quote_bodies

    bodies = quote_bodies(c.url("business_logic"), restaurants=50)
    run = f"kill{int(time.time())}"
    results: list[tuple[float, int, float, str]] = []  # (sent at, status, seconds, request id)
    lock = threading.Lock()
    client = httpx.Client(base_url=c.url("business_logic"), timeout=15.0,
                          limits=httpx.Limits(max_connections=128, max_keepalive_connections=64))  # fmt: skip
    origin = time.monotonic()

    def send(i: int) -> None:
        request_id = f"{run}-{i:06d}"
        sent = time.monotonic() - origin
        started = time.perf_counter()
        try:
            status = client.post("/v1/etd", json=bodies[i % len(bodies)],
                                 headers={"X-Request-ID": request_id}).status_code  # fmt: skip
        except httpx.TransportError:
            status = 0
        with lock:
            results.append((sent, status, time.perf_counter() - started, request_id))

    load = FixedRateLoad(send, rate, workers=128)
    stop = threading.Event()
    runner = threading.Thread(target=load.run, args=(stop, before + after), daemon=True)
    runner.start()
    time.sleep(before)
    master = _engine_master(c.url("inference_engine"))
    killed_at = time.monotonic() - origin
    os.kill(master, sig)
    runner.join()
    load.wait()
    client.close()
    time.sleep(3)  # let the restarted engine's log flush
    _report_kill(c, results, killed_at, rate, run, sig.name)


def _engine_master(url: str) -> int:
    port = urlsplit(url).port
    listing = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    found = [int(chunk.split(",")[0]) for chunk in listing.replace("pid=", "\x00").split("\x00")[1:]]
    candidates = sorted(set(found))
    # the master is the parent of the others
    for pid in candidates:
        parent = int(Path(f"/proc/{pid}/stat").read_text().split()[3])
        if parent not in candidates:
            return pid
    raise RuntimeError(f"no gunicorn master on port {port}")


def _report_kill(c: Campaign, results: list[tuple[float, int, float, str]], killed_at: float, rate: float,
                 run: str, signal_name: str) -> None:  # fmt: skip
    results.sort()
    failing = [sent for sent, status, _, _ in results if sent >= killed_at and status != 200]
    last_failure = max(failing) if failing else killed_at
    unavailable_seconds = (last_failure - killed_at) if failing else 0.0
    recovered = [seconds for sent, status, seconds, _ in results if sent > last_failure + 1 and status == 200]
    tail = [seconds for sent, status, seconds, _ in results if sent > last_failure + 1]
    ok_ids = {rid for _, status, _, rid in results if status == 200}
    logged = _logged_request_ids(c.var_dir, run)
    lost = len(ok_ids - logged)
    codes: dict[int, int] = {}
    for sent, status, _, _ in results:
        if sent >= killed_at:
            codes[status] = codes.get(status, 0) + 1
    slowest_refusal = max((s for sent, st, s, _ in results if sent >= killed_at and st != 200), default=0.0)
    # no success after the last failure: the window ended first, so the seconds of 503 are a lower bound
    recovery = f"p99 after {percentile(tail, 99) * 1000:.0f} ms" if recovered else "NOT recovered in the window (>=)"
    c.record(f"engine {signal_name} under {rate:.0f} req/s", f"{len(results)} req", unavailable_seconds,
             f"{recovery}, {lost} events lost",
             f"statuses after kill {codes}; recovered ok {len(recovered)}; slowest refusal {slowest_refusal:.1f}s; "
             f"logged {len(logged)} of {len(ok_ids)} ok")  # fmt: skip


def _logged_request_ids(var_dir: Path, run: str) -> set[str]:
    found: set[str] = set()
    for path in (var_dir / "eventlog").rglob("*"):
        if not path.is_file() or "inference.predictions" not in str(path):
            continue
        for line in path.read_text(errors="replace").splitlines():
            if run in line:
                try:  # local event log lines: {"k": key, "v": event}
                    found.add(json.loads(line)["v"]["request_id"])
                except (ValueError, KeyError, TypeError):
                    continue
    return found


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench hostile", description=__doc__)
    parser.add_argument("--var-dir", type=Path, default=None)
    parser.add_argument("--examples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--bomb-levels", type=int, default=8)
    parser.add_argument("--only", default="crafted,fuzz,kill")
    parser.add_argument("--with-credential", action="store_true", help="send the operator token (fuzz behind auth)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/strata-hostile"))
    parser.add_argument(
        "--after", type=float, default=60.0,
        help="seconds of load after the kill or stop (a loaded machine restarts the engine slower)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    settings = Settings()
    var_dir = (args.var_dir or settings.var_dir).resolve()
    urls = {name: getattr(settings, f"{name}_url") for name in SERVICES}
    campaign = Campaign(urls, var_dir, read_operator_token(settings.operator_token, var_dir), args.with_credential)
    parts = set(args.only.split(","))
    print(f"load average before: {os.getloadavg()}")
    if "crafted" in parts:
        for step in (strings, request_ids, customer_id, versions, deep_json, refused_body, invented_methods,
                     big_basket):  # fmt: skip
            step(campaign)
        yaml_bomb(campaign, args.bomb_levels)
        lake_attack(campaign)
    if "fuzz" in parts:
        fuzz(campaign, args.examples, args.seed, args.workdir)
    if "kill" in parts:
        engine_kill(campaign, after=args.after)
    if "term" in parts:  # a graceful stop: supervisord restarts the engine, no prediction event may be lost
        engine_kill(campaign, after=args.after, sig=signal.SIGTERM)
    print(f"load average after: {os.getloadavg()}")
    print(json.dumps([o.__dict__ for o in campaign.outcomes], indent=1))
