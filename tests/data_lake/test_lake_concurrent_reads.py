"""Readers of a lake table while another process overwrites it in a loop read one committed version, whole.

The catalog is served over HTTP from this process; the writer is its own process (``bench.lake_reads.write_loop``:
full overwrites, each commit ``ROWS`` rows over 8 partitions carrying its generation number). A read is consistent
when it has exactly ``ROWS`` rows of one generation: never the superseded and the new files of an overwrite together
(what a glob of the table's directory returns while a commit moves its files in), never half a commit; and no read
fails because a file of the version it listed was deleted meanwhile (superseded files outlive the commit).
"""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.dataset as ds

from bench.lake_reads import TABLE, Reader, against_writer, generation_table, lake_client, serve_catalog
from data_processing.jobs.lake_io import read_arrow
from strata_kernel.lake import LakeClient, committed_files

ROWS = 4000
COMMITS = 12


def versions_read_whole(lake: LakeClient) -> tuple[int, int]:
    """Rows and distinct generations of the current version, read with DuckDB (the jobs' reader) and pyarrow."""
    info = lake.table(TABLE)
    duck = read_arrow(info)
    arrow = ds.dataset(committed_files(info), format="parquet", partitioning="hive",
                       partition_base_dir=str(info.location)).to_table()  # fmt: skip
    if duck.num_rows != arrow.num_rows:
        return -1, -1
    generations = {
        *pc.unique(duck.column("generation")).to_pylist(),
        *pc.unique(arrow.column("generation")).to_pylist(),
    }
    return duck.num_rows, len(generations)


def test_readers_see_one_whole_version_while_another_process_overwrites(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    server, url = serve_catalog(var_dir)

    def reader(lake: LakeClient) -> Reader:
        def read() -> tuple[int, int]:
            time.sleep(0.02)  # leave the writer and the catalog (threads of this process) room on a loaded machine
            return versions_read_whole(lake)

        return read

    try:
        tally, commits = against_writer(url, var_dir, reader, ROWS, seconds=0, commits=COMMITS)
    finally:
        server.shutdown()
    assert commits == COMMITS and tally.reads >= 5, tally  # reads from the writer's first commit to its last
    assert tally.inconsistent == 0, tally.first_problem
    assert tally.failed == 0, tally.first_problem  # the superseded files stay for a while: a listed version is readable


def test_a_version_lists_exactly_its_files(tmp_path: Path) -> None:
    """The table answer names the version's files: an overwrite's list holds only the new commit's files."""
    var_dir = tmp_path / "var"
    server, url = serve_catalog(var_dir)
    try:
        lake = lake_client(url, var_dir)
        for generation in (1, 2):
            lake.write_arrow(TABLE, generation_table(generation, 80), partition_column="nominal_date", job="j",
                             inputs=[], mode="overwrite")  # fmt: skip
        info = lake.table(TABLE)
    finally:
        server.shutdown()
    assert info.version == 2 and len(info.files) == 8
    assert all(path.is_file() and path.parent.parent == info.location for path in info.files)
    assert read_arrow(info).column("generation").to_pylist() == [2] * 80
