"""The profile engines of the lake: DuckDB in the catalog's process, or Spark when the lake is on a cluster.

Both run the kernel's one profile definition (``strata_kernel.profiles``); setting ``profile_engine`` picks one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from data_lake.domain.commits import DataFile
from data_lake.ports import ProfileEngine
from strata_kernel.background import BackgroundLoop
from strata_kernel.profiles.engines import FileRef, profile_files_duckdb, profile_files_spark
from strata_kernel.profiles.model import TableProfile

log = logging.getLogger(__name__)


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
    """Starts its SparkSession on first use and keeps it while commits keep coming; after ``idle_seconds`` without
    a profiling job a background loop stops it, so the lake's application gives its cluster cores back to the data
    jobs (the next job starts a session again). ``idle_seconds=None`` keeps the session for the process's life."""

    name = "spark"

    def __init__(
        self,
        lake_root: Path,
        session_factory: Callable[[], Any],
        *,
        idle_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._root = lake_root.resolve()
        self._factory = session_factory
        self._idle_seconds = idle_seconds
        self._clock = clock
        self._session: Any = None
        self._running = 0  # profiling jobs using the session now
        self._last_used = clock()
        self._lock = threading.Lock()
        self._reaper = (
            BackgroundLoop("lake-spark-idle", self.release_if_idle, min(idle_seconds / 4, 15.0), wait_first=True)
            if idle_seconds is not None
            else None
        )

    @property
    def session_open(self) -> bool:
        return self._session is not None

    def profile_files(self, files: Sequence[DataFile], partition_column: str) -> dict[str, TableProfile]:
        refs = {str(self._root / file.path): file for file in files}
        with self._lock:
            if self._session is None:
                self._session = self._factory()
                if self._reaper is not None:
                    self._reaper.start()
            session = self._session
            self._running += 1
        try:
            found = profile_files_spark(session, [FileRef(path, file.partition) for path, file in refs.items()],
                                        partition_column=partition_column)  # fmt: skip
        finally:
            with self._lock:
                self._running -= 1
                self._last_used = self._clock()
        return {refs[path].path: profile for path, profile in found.items()}

    def release_if_idle(self) -> None:
        """Stop the session when no job ran on it for ``idle_seconds`` (one step of the background loop)."""
        with self._lock:  # under the lock: a job arriving now waits for the stop, then starts a new session
            idle = self._clock() - self._last_used
            if self._session is None or self._running or self._idle_seconds is None or idle < self._idle_seconds:
                return
            session, self._session = self._session, None
            session.stop()
        log.info("stopped the lake's Spark session after %.0f s without a profiling job", idle)

    def close(self) -> None:
        if self._reaper is not None:
            self._reaper.stop()
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            session.stop()
