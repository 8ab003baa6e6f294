"""Test-session-wide environment: Spark workers run this interpreter; quiet TensorFlow; no stray settings; one
credentials directory for every service and job a test starts, as on one machine (`strata run` shares var/)."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# A developer's own STRATA_CONFIG_FILE must not leak into tests; each test passes its settings explicitly.
os.environ.pop("STRATA_CONFIG_FILE", None)
# Services and jobs of one test often live in different var dirs: they find each other's tokens here.
_CREDENTIALS = tempfile.mkdtemp(prefix="strata-test-credentials-")
os.environ["STRATA_CREDENTIALS_DIR"] = _CREDENTIALS
atexit.register(shutil.rmtree, _CREDENTIALS, True)

# py4j logs from __del__ at interpreter exit, after pytest closed the streams: keep it to warnings.
logging.getLogger("py4j").setLevel(logging.WARNING)


@contextmanager
def _root_logging_kept() -> Iterator[None]:
    """Remove the root handlers added inside (an app's ``configure_logging``) and put the level back."""
    root = logging.getLogger()
    before, level = set(root.handlers), root.level
    yield
    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _root_logger_per_test() -> Iterator[None]:
    """A test that builds an app configures the root logger (strata_kernel.logs); the handler it installed went on
    printing every later test's records, into the output a later CLI test reads: tests/strata_cli/
    test_lake_holds_cli.py [bad-token] failed after tests/business_logic/test_help_cli.py in one process."""
    with _root_logging_kept():
        yield


@pytest.fixture(autouse=True, scope="module")
def _root_logger_per_module() -> Iterator[None]:
    """The same for apps built by a module's fixtures, which outlive each test of the module."""
    with _root_logging_kept():
        yield


CHROMIUM = Path("/usr/bin/chromium")  # Debian's package: the browser tests drive it with Playwright
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]  # fmt: skip


@pytest.fixture
def browser() -> Iterator[Browser]:
    """A headless Chromium for one test; the test is skipped, saying how to install it, when it is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y --no-install-recommends chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
