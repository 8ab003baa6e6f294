"""`python -m bench lake-reads [--seconds 20] [--rows 20000]`: readers of a lake table while another process
overwrites it in a loop.

The writer (its own process) commits full overwrites of one table through the catalog, as fast as it can; every
commit is ``--rows`` rows over 8 nominal dates, all carrying the commit's generation number. Meanwhile a reader in
this process reads the table again and again with DuckDB (from the writer's first commit until its last), two ways,
one after the other, each against a writer of its own:

* ``glob`` — the baseline, what readers did before: ``read_parquet('<table>/nominal_date=*/*.parquet')``;
* ``catalog`` — the version's file list from the catalog (``strata_kernel.lake.committed_files``).

A read is consistent when it returns exactly ``--rows`` rows of one generation. A read that fails (a file deleted
between listing and reading) is counted apart. The 1-minute load average is printed beside each row: the machine is
shared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer

    from strata_kernel.lake import LakeClient

TABLE = "processed.orders"
DAYS = [f"2024-05-{day:02d}" for day in range(1, 9)]


@dataclass
class ReadTally:
    reads: int = 0
    inconsistent: int = 0
    failed: int = 0
    seconds: float = 0.0  # time spent in reads (catalog request included)
    first_problem: str = ""

    @property
    def mean_ms(self) -> float:
        return 1000 * self.seconds / max(self.reads, 1)


def generation_table(generation: int, rows: int) -> pa.Table:
    return pa.table({
        "order_id": [f"o-{generation}-{i}" for i in range(rows)],
        "generation": [generation] * rows,
        "nominal_date": [DAYS[i % len(DAYS)] for i in range(rows)],
    })  # fmt: skip


def lake_client(url: str, var_dir: Path) -> LakeClient:
    from data_lake.settings import Settings
    from strata_kernel.contracts.auth import service_credential
    from strata_kernel.http import ServiceClient
    from strata_kernel.lake import LakeClient

    settings = Settings(var_dir=var_dir)
    credential = service_credential("data_processing", settings.credentials_directory())
    catalog = ServiceClient("data_lake", url, credential=credential, timeout_seconds=30.0, retries=0)
    return LakeClient(settings.resolved_lake_root(), catalog)


def write_loop(url: str, var_dir: Path, rows: int, seconds: float, commits: int = 0) -> int:
    """Overwrite TABLE with a new generation until ``seconds`` have passed (or, if given, ``commits`` times);
    returns the number of commits."""
    lake = lake_client(url, var_dir)
    deadline = time.monotonic() + seconds
    done = 0
    while (done < commits) if commits else (time.monotonic() < deadline):
        done += 1
        lake.write_arrow(TABLE, generation_table(done, rows), partition_column="nominal_date",
                         job="bench-writer", inputs=[], mode="overwrite")  # fmt: skip
    return done


def glob_reader(lake: LakeClient) -> Callable[[], tuple[int, int]]:
    import duckdb

    location = lake.table_dir(TABLE)
    pattern = str(location / "nominal_date=*" / "*.parquet")

    def read() -> tuple[int, int]:
        query = "SELECT count(*), count(DISTINCT generation) FROM read_parquet(?, hive_partitioning = false)"
        row = duckdb.execute(query, [pattern]).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    return read


def catalog_reader(lake: LakeClient) -> Callable[[], tuple[int, int]]:
    import duckdb

    from strata_kernel.lake import committed_files

    def read() -> tuple[int, int]:
        info = lake.table(TABLE)
        query = "SELECT count(*), count(DISTINCT generation) FROM read_parquet(?, hive_partitioning = false)"
        row = duckdb.execute(query, [committed_files(info)]).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    return read


def read_loop(read: Callable[[], tuple[int, int]], rows: int, stop: threading.Event | Callable[[], bool]) -> ReadTally:
    """Read until ``stop``; count the reads that were not exactly ``rows`` rows of one generation."""
    stopped = stop.is_set if isinstance(stop, threading.Event) else stop
    tally = ReadTally()
    while not stopped():
        started = time.perf_counter()
        try:
            count, generations = read()
        except Exception as exc:
            tally.failed += 1
            tally.first_problem = tally.first_problem or f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
            continue
        finally:
            tally.seconds += time.perf_counter() - started
            tally.reads += 1
        if (count, generations) != (rows, 1):
            tally.inconsistent += 1
            tally.first_problem = tally.first_problem or f"{count} rows of {generations} generations"
    return tally


def start_writer(url: str, var_dir: Path, rows: int, seconds: float, commits: int) -> subprocess.Popen[str]:
    code = (
        "import sys; from pathlib import Path; from bench.lake_reads import write_loop; "
        "print(write_loop(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])))"
    )
    root = Path(__file__).resolve().parents[1]
    return subprocess.Popen(
        [sys.executable, "-c", code, url, str(var_dir), str(rows), str(seconds), str(commits)],
        cwd=root, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


Reader = Callable[[], tuple[int, int]]


def against_writer(
    url: str, var_dir: Path, make_reader: Callable[[LakeClient], Reader], rows: int, seconds: float, commits: int = 0
) -> tuple[ReadTally, int]:
    """One reader against one writer process for ``seconds`` (or ``commits`` commits); returns the tally and the
    writer's commits."""
    lake = lake_client(url, var_dir)
    lake.write_arrow(TABLE, generation_table(0, rows), partition_column="nominal_date",
                     job="bench-writer", inputs=[], mode="overwrite")  # fmt: skip
    writer = start_writer(url, var_dir, rows, seconds, commits)
    try:
        while lake.table(TABLE).version < 2 and writer.poll() is None:  # count only reads the writer overlaps
            time.sleep(0.05)
        tally = read_loop(make_reader(lake), rows, lambda: writer.poll() is not None)
        out, _ = writer.communicate(timeout=600)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    if writer.returncode != 0:
        raise RuntimeError(f"the writer failed (exit {writer.returncode})")
    return tally, int(out.strip().splitlines()[-1])


def serve_catalog(var_dir: Path) -> tuple[BaseWSGIServer, str]:
    """The catalog app (SQLite catalog under ``var_dir``) served from threads of this process."""
    import logging

    from werkzeug.serving import make_server

    from data_lake.entrypoints.app import create_app
    from data_lake.settings import Settings

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = create_app(Settings(var_dir=var_dir, profile_on_commit="off"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def main(argv: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(prog="python -m bench lake-reads")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args(argv)
    table = Table(title=f"reads of {TABLE} ({args.rows} rows, 8 partitions) while a writer overwrites it")
    for column in ("reader", "reads", "inconsistent", "failed", "mean read ms", "writer commits", "load 1m", "first"):
        table.add_column(column)
    for name, make_reader in (("glob", glob_reader), ("catalog", catalog_reader)):
        with tempfile.TemporaryDirectory(prefix="strata-lake-reads-") as tmp:
            server, url = serve_catalog(Path(tmp) / "var")
            try:
                tally, commits = against_writer(url, Path(tmp) / "var", make_reader, args.rows, args.seconds)
            finally:
                server.shutdown()
        table.add_row(name, str(tally.reads), str(tally.inconsistent), str(tally.failed), f"{tally.mean_ms:.1f}",
                      str(commits), f"{os.getloadavg()[0]:.1f}", tally.first_problem)  # fmt: skip
    Console().print(table)
