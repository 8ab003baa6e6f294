"""A whole Strata in one process for the declared-model acceptance tests: the data lake, data processing, the
inference engine and comparative evaluation served on free ports over one var directory, the commands run through
their real command lines (in-process), one SparkSession for the jobs. Nothing here knows either use case: the
tests add them with YAML, SQL and CSV files only."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import httpx
import pytest
import typer
from typer.testing import CliRunner

from strata_kernel import background
from tests.support import serve

DECLARED = Path(__file__).parent / "declared"
TOKEN = "acceptance-operator-token"


@dataclass
class Stack:
    var: Path
    env: dict[str, str]
    urls: dict[str, str] = field(default_factory=dict)
    stops: list[Callable[[], None]] = field(default_factory=list)

    def run(self, app: typer.Typer, *args: str) -> dict[str, Any]:
        """A command line, in this process with the stack's environment; its last stdout line as JSON."""
        result = CliRunner().invoke(app, list(args), env=self.env)
        assert result.exit_code == 0, f"{' '.join(args)} -> {result.exit_code}: {result.stderr[-3000:]}"
        last = result.stdout.strip().splitlines()[-1]
        parsed: dict[str, Any] = json.loads(last)
        return parsed

    def http(self, service: str) -> httpx.Client:
        """A client of ``service`` calling as the operator (mutating calls need a known caller)."""
        return httpx.Client(base_url=self.urls[service], timeout=60, headers={"Authorization": f"Bearer {TOKEN}"})


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from data_processing.adapters.spark import build_spark_session
    from data_processing.settings import Settings

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = build_spark_session(Settings(var_dir=tmp_path_factory.mktemp("spark")), app_name="strata-acceptance")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, spark: Any) -> Iterator[Stack]:
    from data_lake.entrypoints.app import create_app as lake_app
    from data_lake.settings import Settings as LakeSettings

    root = tmp_path_factory.mktemp("acceptance")
    var = root / "var"
    shutil.copytree(DECLARED / "feature_groups", root / "feature_groups")
    shutil.copytree(DECLARED / "model_specs", root / "model_specs")
    lake_server, lake_url = serve(lake_app(LakeSettings(var_dir=var, log_json=False, profile_on_commit="off")))
    env = {"STRATA_VAR_DIR": str(var), "STRATA_DATA_LAKE_URL": lake_url, "STRATA_LOG_JSON": "false",
           "STRATA_LOG_LEVEL": "WARNING", "STRATA_FEATURE_GROUPS_DIR": str(root / "feature_groups"),
           "STRATA_MODEL_SPECS_DIR": str(root / "model_specs"), "STRATA_OPERATOR_TOKEN": TOKEN,
           "STRATA_CONFIG_FILE": "", "MLFLOW_DISABLE_TELEMETRY": "true"}  # fmt: skip
    built = Stack(var, env, {"data_lake": lake_url}, [lake_server.shutdown])
    try:
        yield built
    finally:
        for stop in reversed(built.stops):
            stop()


class _CommonSettings(TypedDict):
    """The settings every service of the stack is given alike (a TypedDict: each Settings checks them by name)."""

    var_dir: Path
    log_json: bool
    operator_token: str
    model_specs_dir: Path


def start_services(stack: Stack, models: list[str]) -> None:
    """Inference engine, comparative evaluation and data processing over the stack's var directory."""
    from comparative_eval.entrypoints.app import create_app as ce_app
    from comparative_eval.settings import Settings as CeSettings
    from data_processing.entrypoints.app import create_app as dp_app
    from data_processing.settings import Settings as DpSettings
    from inference_engine.entrypoints.app import create_app as ie_app
    from inference_engine.settings import Settings as IeSettings

    common: _CommonSettings = {"var_dir": stack.var, "log_json": False, "operator_token": TOKEN,
              "model_specs_dir": Path(stack.env["STRATA_MODEL_SPECS_DIR"])}  # fmt: skip
    engine = ie_app(IeSettings(**common, models=models, routing_poll_seconds=0, warmup_predictions=1))
    background.start(engine)  # what the server does in each worker after the fork: load the models
    engine_server, engine_url = serve(engine)
    stack.stops.append(engine_server.shutdown)
    stack.urls["inference_engine"] = engine_url
    evaluation = ce_app(CeSettings(**common, inference_engine_url=engine_url, analysis_in_service=False,
                                   http_timeout_seconds=30))  # fmt: skip
    ce_server, ce_url = serve(evaluation)
    stack.stops.append(ce_server.shutdown)
    stack.urls["comparative_eval"] = ce_url
    processing = dp_app(DpSettings(**common, inference_engine_url=engine_url, data_lake_url=stack.urls["data_lake"],
                                   feature_groups_dir=Path(stack.env["STRATA_FEATURE_GROUPS_DIR"]),
                                   http_timeout_seconds=10))  # fmt: skip
    dp_server, dp_url = serve(processing)
    stack.stops.append(dp_server.shutdown)
    stack.urls["data_processing"] = dp_url
    with stack.http("inference_engine") as client:
        deadline = time.monotonic() + 120
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, client.get("/readyz").text
            time.sleep(0.2)
