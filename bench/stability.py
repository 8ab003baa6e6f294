"""`python -m bench stability [--clean-minutes 10] [--rate 50] [--only a,b,c,d] [--from DIR]`: Yokoyama's experiment.

Starts Strata from a built `small` demo (var/bench-stability; `--from` copies another built one, else it is built),
its sidecar monitors judging every 2 s, and a Prometheus of its own (Debian's package) scraping the sidecars every
2 s with the alert rules of monitoring/prometheus/rules. Under a steady open loop of ETD quotes through business
logic (``--rate``/s), it first runs clean for ``--clean-minutes`` and counts the alerts that fire (false alerts),
then injects one fault at a time and times the firing of the right alert (name, component and field):

- (a) schema change: the order events (``etd.order_placed``) arrive with ``n_items`` renamed ``item_count``
  -> StrataSchemaChanged{component=data_processing, field=n_items|item_count};
- (c) missing values: the online store's ``restaurant_stats`` rows lose their values (the group stops answering)
  -> StrataMissingValuesHigh{component=data_processing, feature=restaurant_stats__*};
- (d) training/serving skew: the online store is loaded from another computation (``avg_delivery_minutes_7d``
  times 1.4) -> StrataTrainingServingSkew{component=data_processing, feature=restaurant_stats__avg_delivery...};
- (b) trend change: basket sizes triple -> StrataFeatureDrift{component=inference_engine, feature=order__n_items|
  order__subtotal} (last: its windows keep the drift for their length).

The quotes replay held-out orders of the demo's own data (``replay_orders``): a clean stream must look like what the
model was trained on, or the monitors rightly call the bench's own traffic drift.

Each fault is undone before the next. Every quote's answer is counted (failed = not 200; the client has no
time-out and never retries, so a failure is the service's answer: business logic sheds a request that waited over
0.5 s for a worker thread with 503 + Retry-After, strata_kernel/shedding.py). Prints one table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from bench.etd import ROOT, SIDECAR_OFFSET, _env, running_strata
from bench.harness import JsonPoster

PORT_BASE = 23000  # not bench etd's 18000: both may run on one machine
SIDECARS = {"business_logic": 1, "data_processing": 2, "inference_engine": 3, "data_lake": 4}
TARGETS = {"a": 30.0, "b": 120.0, "c": 30.0, "d": 120.0}


@dataclass
class Load:
    """The steady open loop of quotes; ``scale`` multiplies basket quantities (the trend change)."""

    base: str
    orders: list[dict[str, object]]
    rate: float
    scale: int = 1
    statuses: dict[int, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self._poster = JsonPoster(self.base, 16)
        self._threads = [threading.Thread(target=self._send, args=(n,), daemon=True) for n in range(16)]
        for thread in self._threads:
            thread.start()

    def _send(self, sender: int) -> None:
        interval = 16 / self.rate
        next_at, i = time.monotonic() + sender / self.rate, sender
        while not self._stop.is_set():
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            order = dict(self.orders[i % len(self.orders)])
            if self.scale != 1:
                order["basket"] = [{**line, "quantity": line["quantity"] * self.scale} for line in order["basket"]]  # type: ignore[attr-defined]
            try:
                status = self._poster.post("/v1/etd", order)[0]
            except Exception:  # a transport error is a failed quote too
                status = 0
            self.statuses[status] = self.statuses.get(status, 0) + 1
            next_at += interval
            i += 16

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def counts(self) -> tuple[int, int]:
        total = sum(self.statuses.values())
        return total, total - self.statuses.get(200, 0)


@contextmanager
def prometheus(port: int, interval: str = "2s") -> Iterator[str]:
    """A Prometheus of the bench's own: the sidecars every ``interval``, Strata's alert rules evaluated as often."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise SystemExit("prometheus is not installed: apt-get install -y --no-install-recommends prometheus")
    work = Path(tempfile.mkdtemp(prefix="bench-stability-"))
    rules = sorted(str(p) for p in (ROOT / "monitoring" / "prometheus" / "rules").glob("*.yml"))
    targets = [f"127.0.0.1:{PORT_BASE + SIDECAR_OFFSET + n}" for n in SIDECARS.values()]
    config = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": rules,
        "scrape_configs": [
            {"job_name": "strata-sidecars", "honor_labels": True, "static_configs": [{"targets": targets}]},
            {"job_name": "strata-services", "static_configs": [{"targets": [f"127.0.0.1:{PORT_BASE + 1}"],
                                                                "labels": {"component": "business_logic"}}]},
        ],
    }  # fmt: skip
    (work / "prometheus.yml").write_text(json.dumps(config))
    process = subprocess.Popen(
        [binary, f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: httpx.get(f"{url}/-/ready", timeout=1).status_code == 200, 60, "prometheus did not start")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def _wait(ready: Callable[[], bool], seconds: float, failure: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(failure)


def firing(url: str) -> list[dict[str, str]]:
    alerts = httpx.get(f"{url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return [alert["labels"] for alert in alerts if alert["state"] == "firing"]


@dataclass
class Fault:
    key: str
    name: str
    alert: str
    component: str
    label: str  # "feature" or "field"
    values: tuple[str, ...]  # the right ones
    inject: Callable[[], None]
    undo: Callable[[], None]

    def matches(self, labels: dict[str, str]) -> bool:
        return (labels.get("alertname") == self.alert and labels.get("component") == self.component
                and labels.get(self.label, "") in self.values)  # fmt: skip


def _online_db(var_dir: Path) -> Path:
    return var_dir / "data_processing" / "online.db"


class OnlineStoreEdit:
    """Rewrites the payload of every restaurant_stats row of the current online version (and puts it back)."""

    def __init__(self, var_dir: Path) -> None:
        self._path = _online_db(var_dir)
        self._saved: list[tuple[str, str]] = []
        self._table = ""

    def apply(self, change: Callable[[dict[str, object]], dict[str, object]]) -> None:
        with sqlite3.connect(self._path, timeout=30) as db:
            version = db.execute("SELECT version FROM online_versions WHERE group_name = 'restaurant_stats'").fetchone()
            self._table = f"fg_restaurant_stats__v{version[0]}"
            self._saved = list(db.execute(f'SELECT entity_id, payload FROM "{self._table}"'))
            db.executemany(f'UPDATE "{self._table}" SET payload = ? WHERE entity_id = ?',
                           [(json.dumps(change(json.loads(p))), e) for e, p in self._saved])  # fmt: skip

    def restore(self) -> None:
        with sqlite3.connect(self._path, timeout=30) as db:
            db.executemany(f'UPDATE "{self._table}" SET payload = ? WHERE entity_id = ?',
                           [(p, e) for e, p in self._saved])  # fmt: skip


def _renamed_orders(var_dir: Path, stop: threading.Event) -> None:
    """Order events with n_items renamed item_count, 20/s, as a changed producer would publish them."""
    from strata_cli.settings import Settings
    from strata_kernel.eventlog import open_event_log

    log = open_event_log(Settings(var_dir=var_dir))
    n = 0
    while not stop.is_set():
        at = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
        events = [{"event_id": f"bench-{n + i}", "event_type": "order_placed", "event_time": at,
                   "order_id": f"bench-{n + i}", "restaurant_id": "r-1", "city_id": "c-1", "country_code": "NL",
                   "placed_at": at, "item_count": 2, "subtotal": 20.0} for i in range(4)]  # fmt: skip
        log.publish("etd.order_placed", events, key_field="order_id")
        n += 4
        time.sleep(0.2)


def faults(var_dir: Path, load: Load) -> list[Fault]:
    store = OnlineStoreEdit(var_dir)
    stop_orders = threading.Event()

    def rename_start() -> None:
        stop_orders.clear()
        threading.Thread(target=_renamed_orders, args=(var_dir, stop_orders), daemon=True).start()

    def nulls(payload: dict[str, object]) -> dict[str, object]:
        return {key: None for key in payload}

    def skewed(payload: dict[str, object]) -> dict[str, object]:
        value = payload.get("avg_delivery_minutes_7d")
        return {**payload, "avg_delivery_minutes_7d": value * 1.4 if isinstance(value, int | float) else value}

    stats = ("order_count_7d", "avg_prep_minutes_7d", "avg_delivery_minutes_7d")
    return [
        Fault("a", "schema change (order events: n_items renamed item_count)", "StrataSchemaChanged",
              "data_processing", "field", ("n_items", "item_count"), rename_start, stop_orders.set),
        Fault("c", "missing values (restaurant_stats stops answering)", "StrataMissingValuesHigh", "data_processing",
              "feature", tuple(f"restaurant_stats__{f}" for f in stats), lambda: store.apply(nulls), store.restore),
        Fault("d", "training/serving skew (online avg_delivery x1.4)", "StrataTrainingServingSkew", "data_processing",
              "feature", ("restaurant_stats__avg_delivery_minutes_7d",), lambda: store.apply(skewed), store.restore),
        Fault("b", "trend change (basket sizes x3)", "StrataFeatureDrift", "inference_engine", "feature",
              ("order__n_items", "order__subtotal"), lambda: setattr(load, "scale", 3),
              lambda: setattr(load, "scale", 1)),
    ]  # fmt: skip


@dataclass
class Row:
    case: str
    seconds: float | None
    target: float | None
    alert: str
    quotes: int
    failed: int
    other_alerts: str
    load: str


def replay_orders(bl: str, lake: str, lake_root: Path, count: int, seed: int = 3) -> list[dict[str, object]]:
    """Quotes for held-out orders of the demo's own data, so that a clean stream looks like what the model was
    trained on (the bench must not call its own traffic drift).

    The orders are the model's holdout (the last ``holdout`` days of ``processed.orders``, never trained on), those
    placed nearest the hour of day the service stamps on a quote now (the reference is sliced by hour): each keeps
    its restaurant and its number of items. The lake keeps no basket lines, so the items are drawn uniformly with
    repetition from the restaurant's menu, as the simulator draws them (data_collection/simulator/orders.py): the
    subtotal follows the same distribution given the restaurant and the item count.
    """
    import pyarrow.dataset as ds

    from strata_kernel.model_specs import load_model_spec

    holdout = timedelta(days=load_model_spec("etd", ROOT / "model_specs").holdout_days)
    location = lake_root / httpx.get(f"{lake}/v1/tables/processed.orders", timeout=30).json()["location"]
    table = ds.dataset(location, format="parquet", partitioning="hive").to_table(
        columns=["restaurant_id", "placed_at", "n_items"])  # fmt: skip
    rows = table.to_pylist()
    start = max(row["placed_at"] for row in rows) - holdout
    rows = [row for row in rows if row["placed_at"] > start]
    rng = random.Random(seed)
    hour = _quote_hour(bl, rows[0]["restaurant_id"])
    rows.sort(key=lambda r: (min((r["placed_at"].hour - hour) % 24, (hour - r["placed_at"].hour) % 24),
                             rng.random()))  # fmt: skip
    chosen = rows[:count]
    menus = _menus(bl, sorted({r["restaurant_id"] for r in chosen}))
    orders = []
    for row in chosen:
        menu = menus.get(row["restaurant_id"])
        if not menu:
            continue
        counts: dict[str, int] = {}
        for _ in range(int(row["n_items"])):
            item = rng.choice(menu)
            counts[item] = counts.get(item, 0) + 1
        basket = [{"item_id": item, "quantity": quantity} for item, quantity in counts.items()]
        orders.append({"restaurant_id": row["restaurant_id"], "basket": basket})
    rng.shuffle(orders)
    return orders


def _quote_hour(bl: str, restaurant: str) -> int:
    """The hour of day the service stamps on a quote now (its wall clock, not the bench's)."""
    item = _menus(bl, [restaurant])[restaurant][0]
    quote = httpx.post(f"{bl}/v1/etd", json={"restaurant_id": restaurant, "basket": [{"item_id": item, "quantity": 1}]},
                       timeout=30)  # fmt: skip
    return datetime.fromisoformat(quote.json()["quoted_at"]).hour


def _menus(bl: str, restaurants: list[str]) -> dict[str, list[str]]:
    menus = {}
    with httpx.Client(base_url=bl, timeout=30) as client:
        for restaurant in restaurants:
            response = client.get(f"/v1/restaurants/{restaurant}")
            if response.status_code == 200:
                menus[restaurant] = [item["item_id"] for item in response.json()["menu"]]
    return menus


def _load_average() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def run_fault(fault: Fault, url: str, load: Load, timeout: float) -> Row:
    before = {json.dumps(a, sort_keys=True) for a in firing(url)}
    quotes, failed = load.counts()
    started = time.monotonic()
    fault.inject()
    found, seconds = None, None
    try:
        while time.monotonic() - started < timeout:
            hits = [a for a in firing(url) if fault.matches(a) and json.dumps(a, sort_keys=True) not in before]
            if hits:
                found, seconds = hits[0], time.monotonic() - started
                break
            time.sleep(0.5)
    finally:
        fault.undo()
    after_quotes, after_failed = load.counts()
    window = f", window={found['window']}" if found and found.get("window") else ""
    label = f"{found['alertname']}{{{fault.label}={found.get(fault.label)}{window}}}" if found else "none"
    return Row(f"({fault.key}) {fault.name}", seconds, TARGETS[fault.key], label, after_quotes - quotes,
               after_failed - failed, "", _load_average())  # fmt: skip


def clean_run(url: str, load: Load, seconds: float) -> Row:
    quotes, failed = load.counts()
    seen: set[str] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for alert in firing(url):
            if alert.get("alertname", "").startswith("Strata"):
                where = [alert.get("feature") or alert.get("field") or "", alert.get("window", "")]
                seen.add(f"{alert['alertname']}{{{', '.join(w for w in where if w)}}}")
        time.sleep(2)
    after_quotes, after_failed = load.counts()
    return Row(f"clean run ({seconds / 60:g} min)", None, None, f"{len(seen)} false alerts", after_quotes - quotes,
               after_failed - failed, ", ".join(sorted(seen)), _load_average())  # fmt: skip


def prepare(var_dir: Path, source: Path | None) -> None:
    if (var_dir / "demo" / "BUILT").exists():
        return
    if source is not None:
        shutil.copytree(source, var_dir, ignore=shutil.ignore_patterns("run", "logs", "*.sock", "*.pid"),
                        dirs_exist_ok=True)  # fmt: skip
        return
    subprocess.run([sys.executable, "-m", "strata_cli", "build"], env=_env(var_dir, PORT_BASE), cwd=ROOT, check=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench stability", description=__doc__)
    parser.add_argument("--clean-minutes", type=float, default=10.0)
    parser.add_argument("--warm-minutes", type=float, default=2.0, help="load before the clean run (windows fill)")
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--only", default="a,c,d,b")
    parser.add_argument("--orders", type=int, default=20_000, help="held-out orders replayed (then cycled)")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds to wait for each alert")
    parser.add_argument("--from", dest="source", type=Path, default=None, help="a built var dir to copy")
    parser.add_argument("--prometheus-port", type=int, default=19090)
    args = parser.parse_args(argv)
    var_dir = ROOT / "var" / "bench-stability"
    prepare(var_dir, args.source)
    os.environ.update({"STRATA_MONITOR_EVALUATE_SECONDS": "2", "STRATA_MONITOR_POLL_SECONDS": "0.5",
                       "STRATA_PROBE_INTERVAL_SECONDS": "2"})  # fmt: skip
    rows: list[Row] = []
    with running_strata(var_dir, port_base=PORT_BASE), prometheus(args.prometheus_port) as url:
        bl = f"http://127.0.0.1:{PORT_BASE + 1}"
        lake = f"http://127.0.0.1:{PORT_BASE + 4}"
        load = Load(bl, replay_orders(bl, lake, var_dir / "lake", args.orders), args.rate)
        print(f"replaying {len(load.orders)} held-out orders", flush=True)
        load.start()
        try:
            time.sleep(args.warm_minutes * 60)
            rows.append(clean_run(url, load, args.clean_minutes * 60))
            print(rows[-1], flush=True)
            chosen = [f for f in faults(var_dir, load) if f.key in args.only.split(",")]
            for fault in chosen:
                rows.append(run_fault(fault, url, load, args.timeout))
                print(rows[-1], flush=True)
                time.sleep(20)
        finally:
            load.stop()
            print(f"answers by status over the whole run: {dict(sorted(load.statuses.items()))}", flush=True)
    report(rows, args)


def report(rows: list[Row], args: argparse.Namespace) -> None:
    table = Table(title=f"bench stability: {args.rate:g} ETD quotes/s through business logic")
    for column in ("case", "time to alert", "target", "alert (right component and field)", "quotes", "failed",
                   "alerts seen", "load avg"):  # fmt: skip
        table.add_column(column)
    for row in rows:
        seconds = "-" if row.seconds is None else f"{row.seconds:.1f} s"
        target = "-" if row.target is None else f"<= {row.target:g} s"
        if row.target is not None and row.seconds is None:
            seconds = "not within timeout"
        table.add_row(row.case, seconds, target, row.alert, str(row.quotes), str(row.failed), row.other_alerts,
                      row.load)  # fmt: skip
    Console(width=200).print(table)
