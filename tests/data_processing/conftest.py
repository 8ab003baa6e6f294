"""Fixtures of data_processing's tests: settings under tmp_path, a fake lake catalog, one SparkSession."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from data_processing.settings import Settings
from strata_kernel.lake import LakeClient
from tests.data_processing.fakes import FakeCatalog, fake_lake


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Entrypoints configure the root logger onto the current (captured, soon closed) stderr: undo it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path / "var", spark_master="local[2]", spark_shuffle_partitions=4)


@pytest.fixture
def lake(tmp_path: Path) -> tuple[LakeClient, FakeCatalog]:
    return fake_lake(tmp_path / "var" / "lake")


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from data_processing.adapters.spark import build_spark_session

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = build_spark_session(Settings(var_dir=tmp_path_factory.mktemp("spark")), app_name="strata-tests")
    yield session
    session.stop()
