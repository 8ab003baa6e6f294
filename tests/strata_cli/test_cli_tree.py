"""`strata tree`: the partitioned model's node tree, read from the inference engine's tree API over HTTP."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import pytest
from typer.testing import CliRunner

from strata_cli.main import app
from strata_cli.models import fetch_tree
from tests.strata_cli.tree_sample import FakeInferenceEngine, etd_tree
from tests.support import serve

runner = CliRunner()


@pytest.fixture
def engine() -> Iterator[tuple[FakeInferenceEngine, str]]:
    fake = FakeInferenceEngine()
    server, url = serve(fake)
    try:
        yield fake, url
    finally:
        server.shutdown()


def _tree(url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["tree", *args], env={"STRATA_INFERENCE_ENGINE_URL": url, "COLUMNS": "200"})
    return result.exit_code, result.output


def test_prints_every_node_with_status_rows_metric_and_who_serves_it(engine: tuple[FakeInferenceEngine, str]) -> None:
    fake, url = engine
    code, output = _tree(url, "etd")

    assert code == 0, output
    assert "etd v3: partitioned by country_code -> city_id, metric mae, min_rows 150" in output
    rotterdam = next(line for line in output.splitlines() if "c-rot" in line)
    assert "worse_than_parent" in rotterdam and "500" in rotterdam and "1.3000" in rotterdam
    assert "+0.3000 vs country_code=NL (worse)" in rotterdam and "↑ country_code=NL" in rotterdam
    amsterdam = next(line for line in output.splitlines() if "c-ams" in line)
    assert "trained" in amsterdam and "-3.1000 vs country_code=NL (better)" in amsterdam and "itself" in amsterdam
    lyon = next(line for line in output.splitlines() if "c-lyo" in line)
    assert "skipped_min_rows" in lyon and "↑ global" in lyon  # FR has no model either: global serves Lyon
    assert "skipped_min_rows 4" in output and "trained 5" in output
    assert fake.requests == ["/v1/models/etd/tree"]


def test_version_and_json_pass_the_engine_answer_through(engine: tuple[FakeInferenceEngine, str]) -> None:
    fake, url = engine
    code, output = _tree(url, "etd", "--version", "3", "--json")

    assert code == 0, output
    assert json.loads(output) == etd_tree(3)
    assert fake.requests == ["/v1/models/etd/tree?version=3"]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["churn"], "no registered model named churn"), (["etd", "--version", "9"], "model etd has no version 9")],
)
def test_an_unknown_model_or_version_exits_2_with_one_line(
    engine: tuple[FakeInferenceEngine, str], args: list[str], message: str
) -> None:
    code, output = _tree(engine[1], *args)

    assert code == 2
    assert output.strip() == f"error: {message}"


def test_an_unreachable_engine_exits_1_with_one_line() -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, output = _tree(f"http://127.0.0.1:{port}", "etd")

    assert code == 1
    assert len(output.strip().splitlines()) == 1
    assert output.startswith("error: inference_engine unavailable: connection refused")


def test_a_non_json_answer_is_a_failure_not_a_traceback() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(502, text="<html>bad gateway</html>"))

    with pytest.raises(SystemExit) as caught:
        fetch_tree("http://engine", "etd", None, transport=transport)

    assert caught.value.code == 1


def test_the_request_names_the_model_safely() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json=etd_tree())

    assert fetch_tree("http://engine", "etd/../x", 3, transport=httpx.MockTransport(handler))["model"] == "etd"
    assert seen == ["/v1/models/etd%2F..%2Fx/tree?version=3"]
