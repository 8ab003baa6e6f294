"""`bench partitioned --versus-cluster`: what it counts in each process tree, how it recognises the run on the
standalone master, when it calls two runs the same, and the table it prints."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.partitioned_cluster import ModeRun, comparison_rows, finished_application, same_result
from bench.processes import family, groups_rss_kb


def _run(mode: str, **changes: object) -> ModeRun:
    values: dict[str, object] = dict(
        mode=mode, master="local[2]", seconds=100.0, training_seconds=80.0, driver_peak_mb=1500.0,
        cluster_peak_mb=None, cluster_idle_mb=None, together_peak_mb=1500.0, mae=4.123456,
        load_start=(1.0, 0.5, 0.3), load_end=(2.0, 1.0, 0.5), run_id="abc", data_version="etd_training_set@v3",
        models_digest="d1",
    )  # fmt: skip
    values.update(changes)
    return ModeRun(**values)  # type: ignore[arg-type]


def test_a_family_is_the_roots_and_every_descendant_and_nothing_else() -> None:
    # 1 -> 2 -> 3 -> 4 (a worker JVM, its executor, the executor's Python daemon, a Python worker); 5 and 6 unrelated
    parents = {1: 0, 2: 1, 3: 2, 4: 3, 5: 0, 6: 5}

    assert family([1], parents) == {1, 2, 3, 4}
    assert family([2, 5], parents) == {2, 3, 4, 5, 6}
    assert family([7], parents) == {7}  # gone already: itself only


def test_a_child_process_counts_in_its_parents_group_once() -> None:
    holder = "b = b'x' * (64 << 20); print('ready', flush=True); import time; time.sleep(60)"
    child = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        sizes = groups_rss_kb({"me": [os.getpid()], "again": [os.getpid()], "child": [child.pid]})
    finally:
        child.kill()
        child.wait()

    assert sizes["me"] > 64 * 1024  # this process and the child's 64 MB
    assert sizes["again"] == sizes["child"] == 0  # already counted in the first group


def test_the_finished_application_is_found_by_name_among_completed_ones() -> None:
    apps: dict[str, list[dict[str, object]]] = {
        "active": [{"name": "strata-partitioned-training", "state": "RUNNING", "id": "app-2"}],
        "completed": [
            {"name": "strata-data-processing", "state": "FINISHED", "id": "app-0"},
            {"name": "strata-partitioned-training", "state": "KILLED", "id": "app-1"},
            {"name": "strata-partitioned-training", "state": "FINISHED", "id": "app-3", "cores": 2, "duration": 9000},
        ],
    }

    found = finished_application(apps, "strata-partitioned-training")

    assert found is not None and (found["id"], found["cores"], found["duration"]) == ("app-3", 2, 9000)
    assert finished_application({"active": apps["active"], "completed": []}, "strata-partitioned-training") is None


def test_two_runs_agree_when_data_and_held_out_mae_are_the_same() -> None:
    local = _run("local[2]")

    assert same_result(local, _run("standalone", mae=4.123456 + 5e-7)) is None
    assert "held-out MAE" in str(same_result(local, _run("standalone", mae=4.2)))
    assert "different data" in str(same_result(local, _run("standalone", data_version="etd_training_set@v4")))


def test_the_table_has_a_row_per_mode_then_the_ratios() -> None:
    local = _run("local[2]")
    standalone = _run("standalone (2 workers x 1 core)", seconds=150.0, training_seconds=120.0, driver_peak_mb=750.0,
                      cluster_peak_mb=2250.0, cluster_idle_mb=400.0, together_peak_mb=3000.0)  # fmt: skip

    rows = comparison_rows(local, standalone)

    assert rows[0] == ["local[2]", "100.0", "80.0", "1500", "-", "1500", "4.123456", "1.0/0.5/0.3 -> 2.0/1.0/0.5"]
    assert rows[1][:6] == ["standalone (2 workers x 1 core)", "150.0", "120.0", "750", "2250 (400)", "3000"]
    assert rows[2] == ["standalone / local", "1.50x", "1.50x", "0.50x", "", "2.00x", "diff 0.0e+00", ""]
