"""Partitioned training on Spark end to end: fallback rules, report, retry, resume, determinism, a second
data set, and one registered MLflow version served with routing (tree endpoint, CLI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import CopyingRegistry, FakeLake, churn_spec, etd_spec, options, train

from inference_engine.partitioning.node_training import read_outcome
from inference_engine.partitioning.predictor import load_predictor
from inference_engine.partitioning.training import PartitionedTrainingFailed
from inference_engine.settings import Settings
from tests.support import as_caller

pytestmark = pytest.mark.spark

AMS = "country_code=NL/city_id=c-ams"


def nodes_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["node"]: node for node in report["nodes"]}


@pytest.fixture(scope="module")
def etd_run(spark: Any, etd_lake: FakeLake, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Trained once and registered in a real (embedded) MLflow registry."""
    from inference_engine.bootstrap import bootstrap

    root = tmp_path_factory.mktemp("etd-run")
    settings = Settings(var_dir=root / "var", warmup_predictions=1)
    registry = bootstrap(settings).registry
    result = train(etd_spec(), etd_lake, registry, spark, options(root))
    registry.set_alias("etd", "production", result["summary"]["version"])
    return {**result, "root": root, "settings": settings}


def test_every_node_is_reported_with_status_rows_metric_and_server(etd_run: dict[str, Any]) -> None:
    nodes = nodes_of(etd_run["report"])
    assert len(nodes) == 10  # global + 3 countries + 6 cities
    assert nodes["global"]["status"] == "trained" and nodes["global"]["served_by"] == "global"
    # too little data: skipped, served by the nearest ancestor with a model
    assert nodes["country_code=PT/city_id=c-lis"]["status"] == "skipped_min_rows"
    assert nodes["country_code=PT/city_id=c-lis"]["served_by"] == "country_code=PT"
    # an ancestor skipped too: the whole of FR is served by global
    assert nodes["country_code=FR"]["status"] == "skipped_min_rows"
    assert nodes["country_code=FR/city_id=c-par"]["served_by"] == "global"
    # Amsterdam's own effect makes its model beat its country's on its validation rows
    assert nodes[AMS]["status"] == "trained" and nodes[AMS]["metric"] < nodes[AMS]["parent_metric"]
    assert nodes[AMS]["compared_with"] == "country_code=NL"
    for node in nodes.values():
        assert node["rows"] > 0 and node["reason"]


def test_a_node_that_does_not_beat_its_parent_falls_back_to_it(etd_run: dict[str, Any]) -> None:
    worse = [n for n in etd_run["report"]["nodes"] if n["status"] == "worse_than_parent"]
    assert worse, "the synthetic data has cities no better than their country"
    for node in worse:
        assert node["metric"] >= node["parent_metric"]
        assert node["served_by"] == node["compared_with"]


def test_the_partitioned_model_beats_its_global_node_on_the_held_out_window(etd_run: dict[str, Any]) -> None:
    report = etd_run["report"]
    assert report["holdout_rows"] > 0
    assert report["holdout"]["mae"] < report["holdout_global_only"]["mae"]


def test_the_held_out_report_has_the_restaurant_mean_baseline_and_p90(etd_run: dict[str, Any]) -> None:
    from partitioned_data import etd_table

    table = etd_table().to_pydict()
    start = np.datetime64(etd_run["report"]["holdout_start"])
    placed = np.array(table["placed_at"], dtype="datetime64[us]")
    labels = np.array(table["label"], dtype=np.float64)
    restaurants = np.array(table["restaurant_id"])
    train, held = placed < start, placed >= start
    means = {r: labels[train & (restaurants == r)].mean() for r in set(restaurants[train].tolist())}
    expected = np.abs(np.array([means[r] for r in restaurants[held]]) - labels[held]).mean()

    summary = etd_run["summary"]
    assert summary["baseline_mae"] == pytest.approx(expected, rel=1e-4)
    assert summary["p90_abs_error"] >= summary["mae"] > 0


def test_a_transient_node_failure_is_retried_alone_and_training_is_deterministic(
    spark: Any, etd_lake: FakeLake, etd_run: dict[str, Any], tmp_path: Path
) -> None:
    result = train(etd_spec(), etd_lake, CopyingRegistry(tmp_path / "registry"), spark,
                   options(tmp_path, inject_failures={"country_code=NL": 1}))  # fmt: skip
    nodes = nodes_of(result["report"])
    assert nodes["country_code=NL"]["status"] == "trained" and nodes["country_code=NL"]["attempt"] == 1
    assert nodes["country_code=PT"]["attempt"] == 0  # the others were not redone
    # same data, spec and seed -> identical predictions
    first = load_predictor(_artifact(etd_run["root"]))
    second = load_predictor(_artifact(tmp_path))
    keys: list[list[str | None]] = [["NL", "c-ams"], ["NL", "c-rot"], ["PT", "c-lis"], ["FR", "c-par"], ["XX", None]]
    x = np.random.default_rng(0).uniform(1, 20, (len(keys), 3)).astype(np.float32)
    np.testing.assert_array_equal(first.predict(keys, x)[0], second.predict(keys, x)[0])
    assert first.predict(keys, x)[1] == second.predict(keys, x)[1]


def test_an_interrupted_run_resumes_where_it_stopped(spark: Any, etd_lake: FakeLake, tmp_path: Path) -> None:
    registry = CopyingRegistry(tmp_path / "registry")
    broken = options(tmp_path, inject_failures={AMS: 99}, max_attempts=2)
    with pytest.raises(PartitionedTrainingFailed, match="train again to resume"):
        train(etd_spec(), etd_lake, registry, spark, broken)
    assert registry.published == []  # nothing half-done is registered
    run_dir = next((tmp_path / "runs" / "etd").iterdir())
    finished = {node: read_outcome(run_dir, node) for node in ("global", "country_code=NL", "country_code=PT")}
    split_mtime = (run_dir / "split.parquet").stat().st_mtime_ns

    result = train(etd_spec(), etd_lake, registry, spark, options(tmp_path))
    nodes = nodes_of(result["report"])
    assert nodes[AMS]["status"] == "trained"
    assert (run_dir / "split.parquet").stat().st_mtime_ns == split_mtime  # the persisted split was reused
    for node, before in finished.items():
        assert read_outcome(run_dir, node) == before  # finished nodes were not trained again
    assert len(registry.published) == 1


def test_the_same_code_trains_a_classifier_on_another_hierarchy(spark: Any, etd_lake: FakeLake, tmp_path: Path) -> None:
    registry = CopyingRegistry(tmp_path / "registry")
    result = train(churn_spec(), etd_lake, registry, spark, options(tmp_path))
    nodes = nodes_of(result["report"])
    assert set(nodes) >= {"global", "region=north", "region=south/store=21", "region=north/store=13"}
    assert nodes["region=north/store=13"]["status"] == "skipped_min_rows"
    assert set(nodes["global"]["metrics"]) == {"auc", "precision", "recall"}
    assert nodes["region=south"]["status"] == "trained"  # south's spend effect is opposite to north's
    _, candidate = registry.published[0]
    assert candidate.framework == "partitioned" and candidate.features == ("tenure_months", "monthly_spend")
    predictor = load_predictor(_artifact(tmp_path))
    scores, answered = predictor.predict([["south", "21"], ["west", "99"]], np.array([[3, 150], [3, 150]], np.float32))
    assert ((scores > 0) & (scores < 1)).all()
    assert answered[1] == "global"


def _artifact(root: Path) -> Path:
    run_dir = next((root / "runs").glob("*/*"))
    routing = json.loads((run_dir / "artifact" / "routing.json").read_text())
    assert routing["models"]
    return run_dir / "artifact"


def test_one_registered_version_serves_every_node_and_says_which_answered(etd_run: dict[str, Any]) -> None:
    from inference_engine.entrypoints.app import create_app

    app = create_app(etd_run["settings"])  # its loops are not started: the test loads the model itself
    assert app.extensions["inference_engine.deps"].routing_table.load_configured()
    client = as_caller(app.test_client(), etd_run["settings"], "data_processing")
    features = {"order__hour_of_day": 12, "order__n_items": 3, "restaurant_stats__avg_prep_minutes_7d": 10.0}
    cases = [({"country_code": "NL", "city_id": "c-ams"}, AMS), ({"country_code": "NL", "city_id": "c-new"},
             "country_code=NL"), ({"country_code": "ZZ", "city_id": "c-ams"}, "global")]  # fmt: skip
    for keys, node in cases:
        response = client.post("/v1/models/etd/predict", json={"instances": [{**features, **keys}]})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["node"] == node and body["nodes"] == [node] and body["version"] == "1"
        assert isinstance(body["predictions"][0], float)
    missing = client.post("/v1/models/etd/predict", json={"instances": [{"country_code": "NL"}]})
    assert missing.status_code == 400 and "order__hour_of_day" in missing.get_json()["error"]["message"]
    tree = client.get("/v1/models/etd/tree").get_json()
    assert tree["version"] == 1 and {n["node"] for n in tree["nodes"]} >= {"global", AMS}
    assert client.get("/v1/models/etd/tree?version=7").status_code == 404


def test_the_reference_profile_is_cut_by_serving_node_and_hour(etd_run: dict[str, Any]) -> None:
    from inference_engine.entrypoints.app import create_app
    from strata_kernel.profiles.reference import ReferenceProfile

    client = create_app(etd_run["settings"]).test_client()
    reference = ReferenceProfile.from_dict(client.get("/v1/models/etd/versions/1/reference").get_json())

    serving = {node["served_by"] for node in etd_run["report"]["nodes"]}
    assert set(reference.nodes()) <= serving and {"global", AMS} <= set(reference.nodes())
    amsterdam = reference.for_window([], node=AMS)
    assert amsterdam is not None and 0 < amsterdam.rows < reference.overall.rows
    assert {column.name for column in amsterdam.columns} == {"prediction", "label"}
    noon = reference.for_window([12], node=AMS, min_rows=1)
    assert noon is not None and noon.meta["hours"] == [12]


def test_the_cli_prints_the_tree_of_a_registered_version(
    etd_run: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from inference_engine.entrypoints.cli import app

    monkeypatch.setenv("STRATA_VAR_DIR", str(etd_run["settings"].var_dir))
    result = CliRunner().invoke(app, ["tree", "etd", "--version", "1", "--json"])
    assert result.exit_code == 0, result.output
    nodes = nodes_of(json.loads(result.stdout))
    assert nodes["country_code=FR/city_id=c-par"]["served_by"] == "global"
    table = CliRunner().invoke(app, ["tree", "etd"])
    assert table.exit_code == 0 and "c-ams" in table.output and "skipped_min_rows" in table.output
    unknown = CliRunner().invoke(app, ["tree", "etd", "--version", "9"])
    assert unknown.exit_code != 0 and "no version 9" in unknown.output
