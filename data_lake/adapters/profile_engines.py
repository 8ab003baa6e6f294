"""The profile engines of the lake: DuckDB in the catalog's process, or Spark when the lake is on a cluster.

Both run the kernel's one profile definition (``strata_kernel.profiles``); setting ``profile_engine`` picks one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from data_lake.domain.commits import DataFile
from data_lake.ports import ProfileEngine
from strata_kernel.profiles.engines import FileRef, profile_files_duckdb, profile_files_spark
from strata_kernel.profiles.model import TableProfile


class DuckDBProfileEngine(ProfileEngine):
    name = "duckdb"

    def __init__(self, lake_root: Path) -> None:
        self._root = lake_root.resolve()

    def profile_files(self, files: Sequence[DataFile], partition_column: str) -> dict[str, TableProfile]:
        refs = {str(self._root / file.path): file for file in files}
        found = profile_files_duckdb([FileRef(path, file.partition) for path, file in refs.items()],
                                     partition_column=partition_column)  # fmt: skip
        return {refs[path].path: profile for path, profile in found.items()}


class SparkProfileEngine(ProfileEngine):
    """Starts its SparkSession on first use (seconds), then keeps it for the process's later commits."""

    name = "spark"

    def __init__(self, lake_root: Path, session_factory: Callable[[], Any]) -> None:
        self._root = lake_root.resolve()
        self._factory = session_factory
        self._session: Any = None
        self._lock = threading.Lock()

    def _spark(self) -> Any:
        with self._lock:
            if self._session is None:
                self._session = self._factory()
            return self._session

    def profile_files(self, files: Sequence[DataFile], partition_column: str) -> dict[str, TableProfile]:
        refs = {str(self._root / file.path): file for file in files}
        found = profile_files_spark(self._spark(), [FileRef(path, file.partition) for path, file in refs.items()],
                                    partition_column=partition_column)  # fmt: skip
        return {refs[path].path: profile for path, profile in found.items()}
