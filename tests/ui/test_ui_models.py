"""The /models page and its relay to the inference engine's tree API (fake at the port; HTTP adapter mocked)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from flask.testing import FlaskClient

from tests.strata_cli.tree_sample import etd_tree, not_partitioned
from tests.ui.test_ui_relay import FakeBusinessLogic
from ui.adapters.inference_engine_http import HttpModelTrees
from ui.domain.reply import Reply
from ui.entrypoints.app import create_app
from ui.ports import Deployments, ModelTrees
from ui.settings import Settings

STATIC = Path(__file__).resolve().parents[2] / "ui" / "static"
BAD_VERSION = {"error": {"code": "bad_request", "message": "version must be an integer", "field": "version"}}


class FakeModelTrees(ModelTrees):
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def get_tree(self, name: str, version: str | None) -> Reply:
        self.calls.append((name, version))
        return Reply(200, etd_tree()) if name == "etd" else Reply(404, not_partitioned(name))

    def list_models(self) -> Reply:
        return Reply(200, {"models": [{"name": "etd", "version": "3", "alias": "production", "features": [],
                                       "loaded_at": "2025-03-01T12:00:00+00:00"}]})  # fmt: skip

    def versions(self, name: str) -> Reply:
        if name != "etd":
            return Reply(404, {"error": {"code": "model_not_found", "message": f"no registered model named {name}"}})
        version = {"version": "3", "framework": "partitioned", "aliases": ["production"], "created_at": None,
                   "run_id": "abc", "experiment_id": "1", "metrics": {"mae": 3.2}}  # fmt: skip
        return Reply(200, {"model": "etd", "kind": "partitioned", "serving_version": "3", "versions": [version]})


class FakeDeployments(Deployments):
    def history(self, name: str) -> Reply:
        return Reply(200, {"records": []})


@pytest.fixture
def trees() -> FakeModelTrees:
    return FakeModelTrees()


@pytest.fixture
def client(tmp_path: Path, trees: FakeModelTrees) -> FlaskClient:
    settings = Settings(var_dir=tmp_path / "var", log_json=False)
    return create_app(
        settings, business_logic=FakeBusinessLogic(), model_trees=trees, deployments=FakeDeployments()
    ).test_client()


@pytest.mark.parametrize(("path", "model"), [("/models/etd", "etd"), ("/models/churn", "churn")])
def test_the_page_names_its_model_and_loads_only_its_own_assets(client: FlaskClient, path: str, model: str) -> None:
    response = client.get(path)
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert f'data-model="{model}"' in html
    for stable_id in ('id="node-filter"', 'id="tree"', 'id="summary"', 'id="error"'):
        assert stable_id in html
    assert "/static/models.js" in html and "/static/model.js" in html and "/static/models.css" in html
    assert "https://" not in html and 'src="//' not in html


def test_a_model_name_with_markup_is_escaped_in_the_page(client: FlaskClient) -> None:
    html = client.get("/models/%3Cb%3Ex").get_data(as_text=True)

    assert "<b>x" not in html and "&lt;b&gt;x" in html


def test_every_page_has_the_one_navigation_marking_where_it_is(client: FlaskClient) -> None:
    import re

    from ui.navigation import PAGES

    pages = [page.path for page in PAGES] + ["/models/etd"]
    bars = {}
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        bar = re.search(r'<nav class="nav" aria-label="Pages">.*?</nav>', html, re.S)
        assert bar is not None, path
        bars[path] = bar.group(0)
        current = re.findall(r'href="([^"]+)"[^>]*aria-current="page"', bar.group(0))
        assert current == [path if path != "/models/etd" else "/models"], (path, current)
    # the same links in the same order on every page
    assert len({re.sub(r' aria-current="page"', "", bar) for bar in bars.values()}) == 1
    assert all(f'href="{target}"' in bars["/"] for target in pages[:-1])


def test_the_models_index_and_the_relays_answer_as_the_engine_and_comparative_eval_do(client: FlaskClient) -> None:
    assert 'id="models"' in client.get("/models").get_data(as_text=True)
    assert client.get("/api/models").get_json()["models"][0]["name"] == "etd"
    assert client.get("/api/models/etd/versions").get_json()["kind"] == "partitioned"
    missing = client.get("/api/models/churn/versions")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "model_not_found"
    assert client.get("/api/deployments/etd/history").get_json() == {"records": []}


def test_the_script_renders_server_strings_as_text_only() -> None:
    for name in ("models.js", "model.js", "models_index.js"):
        script = (STATIC / name).read_text()
        assert ".innerHTML" not in script and "insertAdjacentHTML" not in script and "eval(" not in script, name
        assert "textContent" in script, name


def test_relay_passes_the_version_and_errors_through_unchanged(client: FlaskClient, trees: FakeModelTrees) -> None:
    tree = client.get("/api/models/etd/tree")
    pinned = client.get("/api/models/etd/tree?version=3")
    missing = client.get("/api/models/churn/tree")

    assert (tree.status_code, tree.get_json()) == (200, etd_tree())
    assert pinned.status_code == 200
    assert (missing.status_code, missing.get_json()) == (404, not_partitioned("churn"))
    assert trees.calls == [("etd", None), ("etd", "3"), ("churn", None)]


def test_http_adapter_encodes_names_relays_errors_and_reports_the_engine_down() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(400, json=BAD_VERSION)

    adapter = HttpModelTrees("http://engine", transport=httpx.MockTransport(handler))
    reply = adapter.get_tree("a/b", "x")

    assert (reply.status, reply.body) == (400, BAD_VERSION)
    assert seen == ["/v1/models/a%2Fb/tree?version=x"]


def test_the_ui_answers_503_when_the_engine_is_unreachable(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    trees = HttpModelTrees("http://engine", retries=0, transport=httpx.MockTransport(refuse))
    settings = Settings(var_dir=tmp_path / "var", log_json=False)
    client = create_app(settings, business_logic=FakeBusinessLogic(), model_trees=trees).test_client()

    response = client.get("/api/models/etd/tree")

    assert response.status_code == 503
    assert response.get_json()["error"]["message"] == "inference_engine unavailable: connection refused"
