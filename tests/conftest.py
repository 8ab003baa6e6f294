"""Test-session-wide environment: Spark workers run this interpreter; quiet TensorFlow; no stray settings."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# A developer's own STRATA_CONFIG_FILE must not leak into tests; each test passes its settings explicitly.
os.environ.pop("STRATA_CONFIG_FILE", None)

import logging

# py4j logs from __del__ at interpreter exit, after pytest closed the streams: keep it to warnings.
logging.getLogger("py4j").setLevel(logging.WARNING)
