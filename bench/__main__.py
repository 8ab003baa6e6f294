"""`python -m bench [online] [pit] [nrt] [partitioned] [serving] [--requests N]`: run the benchmarks (default:
all). `serving`: the generic online endpoint of a declared model next to ETD's estimate.

`python -m bench etd [--slice N] [--rounds N] [--concurrency 1,8,32] [--rate 200] [--against DIR]`: the ETD path,
the engine alone and the chatbot against `mlflow models serve`, interleaved; an open loop at a fixed rate.
`python -m bench stability [--clean-minutes 10] [--rate 50] [--only a,c,d,b] [--from DIR]`: faults injected under
load, time to the right alert, failed quotes and false alerts of a clean run (Yokoyama's experiment).
`python -m bench footprint [--var-dir DIR] [--start] [--sidecars [--samples N] [--against DIR]]`: RSS/PSS per
process of a running stack, and what each holds; `--sidecars`: sidecars alone, old and new alternating.
`python -m bench rollout [--var-dir var] [--rate 50] [--duration S] [--profile cluster]`: canary promotion and
rollback under load (on the cluster profile: Spark standalone, Kafka, PostgreSQL, MLflow server, Redis).
`python -m bench partitioned --versus-cluster [--size full]`: the partitioned ETD training on Spark local[2], then on
a standalone master with two workers (started and stopped by the bench): wall time, peak memory, held-out MAE.
`python -m bench hostile [--examples N] [--only crafted,fuzz,kill]`: the hostile-input campaign against a running stack.
`python -m bench profile [--datasets small,large] [--engines pandas,duckdb,spark] [--no-lake]`: profiling a lake
table, full vs incremental (each in its own process), DuckDB vs Spark vs pandas describe(), and the lake's commit path.
`python -m bench lake-reads [--seconds 20] [--rows 20000]`: reads of a table a writer process overwrites in a loop.
`python -m bench startup [--runs 5] [--hog 2] [--code DIR]`: `strata run` ready time, memory, survivors.
`python -m bench reproduce [--size tiny] [--cold] [--keep]`: past engines rebuilt with DVC (`strata reproduce`) in a
fresh clone: time against their first training, and the verdict (bytes / predictions identical).
`python -m bench rollback [--var-dir DIR] [--rate 50] [--no-rebuild] [--keep]`: Yokoyama's RQ2 — a worse engine
deployed, rolled back by the CLI under load (time, business logic's PIDs, failed quotes); then its predecessor rebuilt
by `strata reproduce --deploy` after its artifact was deleted.
"""

from __future__ import annotations

import argparse
import sys

from rich.console import Console
from rich.table import Table

from bench import (
    chat,
    etd,
    footprint,
    hostile,
    lake_reads,
    nrt_freshness,
    online_lookup,
    partitioned_training,
    pit_join,
    profile,
    reproduce,
    rollback,
    rollout,
    serving,
    stability,
    startup,
)


def main() -> None:
    if sys.argv[1:2] == ["rollout"]:  # its own options; not part of "all" (it needs a built demo, takes minutes)
        rollout.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["profile"]:  # its own options (datasets, engines)
        profile.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["lake-reads"]:  # a writer process overwriting a table while this one reads it
        lake_reads.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["startup"]:  # its own options; not part of "all" (it needs a built demo, takes minutes)
        startup.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["etd"]:  # its own options (interleaved with mlflow serve, open loop, --against)
        etd.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["stability"]:  # a running stack under load, faults injected one at a time (minutes)
        stability.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["footprint"]:  # memory of a running stack
        footprint.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["reproduce"]:  # a fresh clone, four DVC pipeline runs and four rebuilds (tens of minutes)
        reproduce.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["rollback"]:  # a stack, a rollback under load, a DVC pipeline run and a rebuild (minutes)
        rollback.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["partitioned"] and len(sys.argv) > 2:  # its own options (--versus-cluster, --size)
        partitioned_training.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["hostile"]:  # destructive on purpose: only against a throw-away running stack
        hostile.main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument(
        "only",
        nargs="*",
        help="only these: etd, online, pit, nrt, partitioned, chat, profile, serving (default: all)",
    )
    args = parser.parse_args()
    if not args.only or "online" in args.only:
        online_lookup.main()
    if not args.only or "pit" in args.only:
        pit_join.main()
    if not args.only or "nrt" in args.only:
        nrt_freshness.main([])
    if not args.only or "partitioned" in args.only:
        partitioned_training.main([])
    if not args.only or "profile" in args.only:
        profile.main([])
    if not args.only or "serving" in args.only:
        serving.main(args.requests)
    if not args.only or "chat" in args.only:
        _print_chat(args.requests)
    if args.only and "etd" not in args.only:
        return
    etd.main([])


def _print_chat(count: int) -> None:
    results, training = chat.run(count)
    table = Table(title=f"Help-centre chatbot, {count} free-text questions per row, concurrency 1 (2-core machine)")
    for column in ("path", "p50 ms", "p99 ms", "req/s", "errors"):
        table.add_column(column, justify="right" if column != "path" else "left")
    for r in results:
        table.add_row(r.label, f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}", f"{r.throughput_rps:.0f}", str(r.errors))
    quality = Table(title="helpbot on the held-out paraphrases (never trained on; threshold chosen on validation)")
    for column in ("top-1 accuracy", "coverage", "accuracy when answering", "out-of-scope rejected", "threshold"):
        quality.add_column(column, justify="right")
    quality.add_row(*(str(training.get(key)) for key in (
        "heldout_accuracy", "coverage", "answered_accuracy", "out_of_scope_rejection", "threshold")))  # fmt: skip
    Console(width=150).print(table, quality)


if __name__ == "__main__":
    main()
