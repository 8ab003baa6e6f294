"""Fixtures of the data lake's unit tests: fakes at its ports."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lake_fakes import InMemoryCatalog, InMemoryStorage, TickingClock

from data_lake.domain.commits import DataFile
from data_lake.services import CatalogService


@pytest.fixture
def catalog() -> InMemoryCatalog:
    return InMemoryCatalog()


@pytest.fixture
def storage() -> InMemoryStorage:
    return InMemoryStorage()


@pytest.fixture
def service(catalog: InMemoryCatalog, storage: InMemoryStorage) -> CatalogService:
    return CatalogService(catalog, storage, clock=TickingClock())


@pytest.fixture
def stored_file(storage: InMemoryStorage) -> Callable[..., DataFile]:
    """A file of ``table`` in partition ``day`` staged by run ``run`` (it exists in storage)."""

    def make(table: str, day: str, index: int = 0, rows: int = 10, run: str = "r1") -> DataFile:
        zone, name = table.split(".")
        file = DataFile(f"{zone}/{name}/_staging/{run}/nominal_date={day}/f-{index}.parquet", day, rows)
        storage.put(file.path, rows=rows)
        return file

    return make
