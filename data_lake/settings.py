"""Settings of the data lake service (the only module reading the environment)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from strata_kernel.settings import StrataSettings


class Settings(StrataSettings):
    section: ClassVar[str] = "data_lake"

    #: root of the lake's Parquet files; default ``<var_dir>/lake``
    lake_root: Path | None = None
    #: SQLAlchemy URL of the catalog; default an SQLite file under ``var_dir``
    catalog_url: str | None = None
    #: attempts at a commit that loses a race with another writer (2 = one retry)
    commit_attempts: int = 2

    def resolved_lake_root(self) -> Path:
        return self.lake_root if self.lake_root is not None else self.var_dir / "lake"

    def resolved_catalog_url(self) -> str:
        return self.catalog_url or self.sqlite_url("data_lake/catalog.db")

    def listen_address(self) -> tuple[str, int]:
        """Host and port from ``data_lake_url`` so the service listens where its clients look."""
        parts = urlsplit(self.data_lake_url)
        return parts.hostname or "127.0.0.1", parts.port or 8004
