"""The feature directory of these tests: the SQL adapter on an SQLite file under tmp_path."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from data_processing.adapters.sql_directory import SqlFeatureDirectory
from data_processing.settings import Settings


@pytest.fixture
def directory(settings: Settings) -> Iterator[SqlFeatureDirectory]:
    store = SqlFeatureDirectory(settings.resolved_directory_url())
    yield store
    store.close()
