"""The help-centre chatbot end to end: synthetic help tables committed to a real data_lake catalog,
``train helpbot`` (the CLI) into a SQLite MLflow registry, the TensorFlow runtime, and the engine's HTTP API.

One trained model is shared by the module: TensorFlow takes seconds to import and the model to train.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import yaml
from typer.testing import CliRunner
from werkzeug.serving import make_server

from data_lake.entrypoints.app import create_app as create_lake_app
from data_lake.settings import Settings as LakeSettings
from inference_engine.bootstrap import bootstrap
from inference_engine.entrypoints.app import create_app
from inference_engine.entrypoints.cli import app as cli
from inference_engine.errors import TrainingDataError
from inference_engine.helpbot.encoding import Decisions
from inference_engine.helpbot.evaluation import heldout_metrics
from inference_engine.helpbot.training import train_helpbot
from inference_engine.ports import ModelDocuments, ModelRegistry, TableLocation, TrainedCandidate, TrainingDataSource
from inference_engine.runtimes import create_runtime
from inference_engine.settings import Settings
from strata_kernel import background
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient
from tests.inference_engine.inference_fakes import directory_table
from tests.support import as_caller, shared_credential

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

BUCKETS = 32768
#: the help-text job writes its VECTORISER_ID in a ``vectoriser`` column; the model is tagged with it
VECTORISER = "test-ngram-v1:32768:crc32:0f"
TOPICS = {
    "refund-status": ["refund", "money", "back", "reimbursed", "credited"],
    "cancel-order": ["cancel", "cancellation", "stop", "abort", "undo"],
    "late-delivery": ["late", "delayed", "slow", "waiting", "overdue"],
    "missing-item": ["missing", "forgot", "absent", "incomplete", "lacking"],
    "change-address": ["address", "location", "street", "moved", "destination"],
    "payment-failed": ["payment", "card", "declined", "charge", "failed"],
    "promo-code": ["promo", "coupon", "discount", "voucher", "code"],
    "account-delete": ["delete", "account", "remove", "erase", "close"],
    "password-reset": ["password", "login", "reset", "forgotten", "locked"],
    "allergy-info": ["allergy", "allergens", "gluten", "nuts", "ingredients"],
    "tip-driver": ["tip", "driver", "courier", "gratuity", "rider"],
    "invoice-copy": ["invoice", "receipt", "vat", "bill", "copy"],
}
FILLERS = ["how do i", "can i", "what if my", "why is my", "i want to", "help with", "where can i", "is it possible to"]
GENERIC = ["the", "order", "my", "please", "today", "app", "now", "food"]
OUT_OF_SCOPE = ["weather", "football", "score", "recipe", "pasta", "music", "movie", "holiday", "stock", "bitcoin",
                "poem", "joke", "capital", "france", "homework", "song"]  # fmt: skip


def vectorise(text: str) -> list[int]:
    """A stand-in for data_processing's vectoriser: hashed word unigrams and bigrams in [1, BUCKETS)."""
    words = text.lower().split()
    grams = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
    return [zlib.crc32(gram.encode()) % (BUCKETS - 1) + 1 for gram in grams]


def question(rng: np.random.Generator, words: list[str], topical: int = 2) -> str:
    """A filler phrase, ``topical`` of the topic's words and generic words, shuffled (a paraphrase)."""
    picked = rng.choice(words, size=topical, replace=False).tolist() + rng.choice(GENERIC, size=2).tolist()
    return " ".join([str(rng.choice(FILLERS)), *rng.permutation(picked).tolist()])


def help_tables(seed: int = 11, heldout_seed: int = 12) -> dict[str, pa.Table]:
    """12 articles; training: title + 8 questions each; held out: 4 fresh paraphrases each + 24 off-topic."""
    rng, held_rng = np.random.default_rng(seed), np.random.default_rng(heldout_seed)
    articles: list[dict[str, str]] = []
    examples: list[tuple[str, str | None, str]] = []
    heldout: list[tuple[str, str | None, str]] = []
    for article_id, words in TOPICS.items():
        title = f"{words[0]} {words[1]} help"
        url, answer = f"http://help.test/{article_id}", f"All about {words[0]}."
        articles.append({"article_id": article_id, "url": url, "title": title, "category": "orders",
                         "answer": answer, "content_hash": article_id})  # fmt: skip
        examples.append(("title", article_id, title))
        # a few vague questions (one topical word) make validation mistakes, as real users do
        examples += [("question", article_id, question(rng, words, 1 if n < 2 else 2)) for n in range(8)]
        heldout += [("question", article_id, question(held_rng, words)) for _ in range(4)]
    heldout += [("question", None, question(held_rng, OUT_OF_SCOPE)) for _ in range(24)]
    return {
        "processed.help_articles": pa.Table.from_pylist(articles),
        "processed.help_examples": examples_table(examples, "e"),
        "processed.help_heldout": examples_table(heldout, "h"),
    }


def examples_table(rows: list[tuple[str, str | None, str]], prefix: str) -> pa.Table:
    return pa.table({
        "example_id": [f"{prefix}-{i:05d}" for i in range(len(rows))],
        "article_id": pa.array([row[1] for row in rows], pa.string()),
        "source": [row[0] for row in rows],
        "text": [row[2] for row in rows],
        "normalised": [row[2] for row in rows],
        "token_ids": pa.array([vectorise(row[2]) for row in rows], pa.list_(pa.int32())),
        "vectoriser": [VECTORISER] * len(rows),
        "nominal_date": ["2024-05-01"] * len(rows),
    })  # fmt: skip


@dataclass(frozen=True)
class Trained:
    settings: Settings
    env: dict[str, str]
    summary: dict[str, Any]
    tables: dict[str, pa.Table]


def run_cli(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env=env)


def serve_lake(var: Path) -> tuple[Any, str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # its request lines would mix into the CLI's stderr
    server = make_server("127.0.0.1", 0, create_lake_app(LakeSettings(var_dir=var, log_json=False)), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    """The help tables committed to a data_lake catalog, then ``train helpbot`` through the CLI."""
    var = tmp_path_factory.mktemp("helpbot") / "var"
    server, url = serve_lake(var)
    lake = LakeClient(var / "lake", ServiceClient("data_lake", url, credential=shared_credential("data_processing")))
    tables = help_tables()
    for name, table in tables.items():
        partition = "category" if name == "processed.help_articles" else "nominal_date"
        lake.write_arrow(name, table, partition_column=partition, job="test", inputs=[], mode="overwrite")
    env = {"STRATA_VAR_DIR": str(var), "STRATA_DATA_LAKE_URL": url, "STRATA_LOG_LEVEL": "WARNING"}
    try:
        result = run_cli(env, "train", "helpbot")
        assert result.exit_code == 0, result.output
        lines = result.stdout.strip().splitlines()
        assert len(lines) == 1, result.stdout
        settings = Settings(var_dir=var, models=["helpbot"], warmup_predictions=2, load_retry_seconds=0.05)
        yield Trained(settings, env, json.loads(lines[0]), tables)
    finally:
        server.shutdown()


def test_training_maps_unseen_paraphrases_to_their_article_and_refuses_off_topic_questions(trained: Trained) -> None:
    summary = trained.summary

    assert summary["model"] == "helpbot" and summary["version"] == 1
    assert summary["heldout_in_scope"] == 48 and summary["heldout_out_of_scope"] == 24
    assert summary["heldout_accuracy"] >= 0.75  # chance is 1/12
    assert summary["answered_accuracy"] >= summary["heldout_accuracy"]
    # an off-topic question is refused more often than an in-scope one
    assert summary["out_of_scope_rejection"] > 1 - summary["coverage"]


def test_the_registered_version_carries_its_threshold_metrics_and_lineage(trained: Trained) -> None:
    tags = bootstrap(trained.settings).registry.version("helpbot", 1).tags

    assert tags["framework"] == "tensorflow"
    assert json.loads(tags["features"]) == ["token_ids"]
    assert tags["vectoriser"] == VECTORISER == trained.summary["vectoriser"]
    assert float(tags["threshold"]) == pytest.approx(trained.summary["threshold"], abs=1e-4)
    # chosen on the training tables alone: validation questions and questions of articles a model never saw
    assert tags["threshold_target_met"] == "true"
    assert float(tags["validation_answered_accuracy"]) >= 0.85
    assert float(tags["pseudo_out_of_scope_rejection"]) >= 0.8
    assert float(tags["validation_coverage"]) == pytest.approx(trained.summary["validation_coverage"], abs=1e-4)
    # 3 rounds: each round's validation slice (3 of each article's 8 questions), and a fifth of the articles
    # left out (all 8 questions of 2 articles)
    assert int(tags["calibration_in_scope_questions"]) == 3 * 12 * 3
    assert int(tags["calibration_out_of_scope_questions"]) == 3 * 2 * 8
    for metric in ("heldout_accuracy", "coverage", "answered_accuracy", "out_of_scope_rejection"):
        assert float(tags[f"metric_{metric}"]) == pytest.approx(trained.summary[metric], abs=1e-4)
    assert tags["data_version"] == "processed.help_examples@v1,processed.help_articles@v1"
    assert tags["heldout_version"] == "processed.help_heldout@v1"


def test_the_registry_lists_the_version_with_its_heldout_metrics_and_run(trained: Trained) -> None:
    from inference_engine.catalog import model_versions

    body = model_versions(bootstrap(trained.settings).registry, "helpbot", None)

    assert body["kind"] == "tensorflow" and [v["version"] for v in body["versions"]] == ["1"]
    version = body["versions"][0]
    assert set(version["metrics"]) >= {"heldout_accuracy", "coverage", "out_of_scope_rejection"}
    assert version["run_id"] and version["experiment_id"] and version["created_at"]


def test_the_version_carries_a_reference_of_its_answers_to_questions_it_never_trained_on(trained: Trained) -> None:
    registry = bootstrap(trained.settings).registry
    document = registry.document(registry.version("helpbot", 1), "profile/reference.json")  # type: ignore[attr-defined]

    columns = {column["name"]: column for column in document["overall"]["columns"]}
    assert document["features"] == ["token_count"] and document["prediction"] == "prediction"
    # validation questions (3 of 8 per article, 12 articles) and the held-out ones (48 in scope, 24 off topic)
    assert document["overall"]["rows"] == 3 * 12 + 48 + 24
    named = {item["value"] for item in columns["prediction"]["summary"]["top"]}
    assert columns["prediction"]["kind"] == "categorical" and named <= set(TOPICS) and len(named) >= 10
    assert columns["token_count"]["summary"]["min"] >= 1


def test_the_version_holds_the_keras_model_labels_vocabulary_and_signature(trained: Trained, tmp_path: Path) -> None:
    registry = bootstrap(trained.settings).registry
    artifact = registry.fetch(registry.version("helpbot", 1), tmp_path)

    assert artifact.model_file.name == "tensorflow"
    assert sorted(p.name for p in artifact.model_file.iterdir()) == ["labels.json", "model.keras", "vocabulary.json"]
    labels = json.loads((artifact.model_file / "labels.json").read_text())
    assert labels["articles"]["refund-status"]["url"] == "http://help.test/refund-status"
    vocabulary = json.loads((artifact.model_file / "vocabulary.json").read_text())
    assert (vocabulary["vectoriser"], vocabulary["buckets"], vocabulary["max_length"]) == (VECTORISER,
                                                                                          BUCKETS, 256)  # fmt: skip
    assert vocabulary["counts"][str(vectorise("help")[0])] >= 12  # every title says "help"
    signature = yaml.safe_load((artifact.model_file.parent / "MLmodel").read_text())["signature"]
    assert json.loads(signature["inputs"])[0]["name"] == "token_ids"
    assert json.loads(signature["outputs"])[0]["tensor-spec"]["shape"] == [-1, len(TOPICS)]


def test_the_served_runtime_answers_exactly_as_the_training_evaluation_did(trained: Trained, tmp_path: Path) -> None:
    from inference_engine.runtimes.tensorflow_runtime import TensorFlowRuntime

    registry = bootstrap(trained.settings).registry
    runtime = create_runtime(registry.fetch(registry.version("helpbot", 1), tmp_path))
    assert isinstance(runtime, TensorFlowRuntime)
    runtime.load()
    heldout = trained.tables["processed.help_heldout"].to_pylist()

    predictions = runtime.predict([{"token_ids": row["token_ids"]} for row in heldout])

    classes = json.loads((runtime.artifact.model_file / "labels.json").read_text())["classes"]
    top = np.array([classes.index(p["article_id"]) if p["article_id"] else -1 for p in predictions])
    # the runtime's answers, read back as the evaluation's decisions
    decisions = Decisions(
        top, np.array([p["confidence"] for p in predictions]), np.array([p["known"] for p in predictions])
    )
    expected = np.array([-2 if row["article_id"] is None else classes.index(row["article_id"]) for row in heldout])
    metrics = heldout_metrics(decisions, expected).as_dict()
    assert {name: round(value, 4) for name, value in metrics.items()} == {
        name: trained.summary[name] for name in metrics
    }
    assert runtime.vectoriser == VECTORISER
    assert all(p["title"] is None for p in predictions if not p["known"])


def test_serving_scores_in_numpy_with_the_probabilities_of_the_keras_graph(trained: Trained, tmp_path: Path) -> None:
    """The runtime never imports TensorFlow for this architecture, and loses nothing by it."""
    import keras

    from inference_engine.helpbot.encoding import MODEL_FILE, Vocabulary, encode
    from inference_engine.helpbot.model import Scorer
    from inference_engine.helpbot.numpy_scorer import NumpyScorer

    registry = bootstrap(trained.settings).registry
    directory = registry.fetch(registry.version("helpbot", 1), tmp_path).model_file
    vocabulary = Vocabulary.read(directory)
    rows = [row["token_ids"] for row in trained.tables["processed.help_heldout"].to_pylist()]
    batch, scored = encode(rows, vocabulary.known_mask(), vocabulary.max_length)

    in_numpy = NumpyScorer.read(directory / MODEL_FILE)(batch[scored])
    in_keras = Scorer(keras.models.load_model(directory / MODEL_FILE, compile=False))(batch[scored])

    assert in_numpy.shape == in_keras.shape == (int(scored.sum()), len(TOPICS))
    assert np.abs(in_numpy - in_keras).max() < 1e-6
    assert (in_numpy.argmax(axis=1) == in_keras.argmax(axis=1)).all()
    runtime = create_runtime(registry.fetch(registry.version("helpbot", 1), tmp_path / "again"))
    runtime.load()
    assert getattr(runtime, "scoring_path", None) == "numpy"


def test_a_saved_model_of_another_architecture_is_scored_by_keras(tmp_path: Path) -> None:
    import keras

    from inference_engine.helpbot.numpy_scorer import NumpyScorer, UnsupportedArchitecture
    from inference_engine.runtimes.tensorflow_runtime import _load_scorer

    inputs = keras.Input(shape=(8,), dtype="int32")
    hidden = keras.layers.Dense(4, activation="relu")(keras.layers.Flatten()(keras.layers.Embedding(50, 3)(inputs)))
    keras.Model(inputs, keras.layers.Dense(5, activation="softmax")(hidden)).save(tmp_path / "other.keras")

    with pytest.raises(UnsupportedArchitecture):
        NumpyScorer.read(tmp_path / "other.keras")
    scorer, classes = _load_scorer(tmp_path / "other.keras")
    assert classes == 5 and not isinstance(scorer, NumpyScorer)
    assert scorer(np.ones((2, 8), dtype=np.int32)).shape == (2, 5)


def test_the_engine_serves_the_deployed_chatbot_over_http(trained: Trained) -> None:
    deployed = run_cli(trained.env, "deploy", "helpbot", "--latest")
    assert deployed.exit_code == 0, deployed.output
    app = create_app(trained.settings)
    background.start(app)  # what the server does in each worker after the fork
    client = as_caller(app.test_client(), trained.settings, "data_processing")
    deadline = time.monotonic() + 120
    while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.05)

    asked = client.post("/v1/models/helpbot/predict", json={"instances": [
        {"token_ids": vectorise("how do i get my refund money back")},
        {"token_ids": vectorise("tell me a joke about football")},
    ]})  # fmt: skip

    body: dict[str, Any] = asked.json or {}
    assert asked.status_code == 200, body
    assert body["model"] == "helpbot" and body["version"] == "1"
    refund, joke = body["predictions"]
    assert refund["known"] is True and refund["article_id"] == "refund-status"
    assert refund["url"] == "http://help.test/refund-status" and refund["answer"] == "All about refund."
    assert 0 < refund["confidence"] <= 1
    # no word of the joke was ever seen in training: "don't know" without running the model
    assert joke == {"known": False, "article_id": None, "confidence": 0.0, "title": None, "url": None, "answer": None}

    bad = client.post("/v1/models/helpbot/predict", json={"instances": [{"token_ids": [1, BUCKETS]}]})
    error: dict[str, Any] = (bad.json or {})["error"]
    assert bad.status_code == 400
    assert error["code"] == "invalid_instances"
    assert error["field"] == "instances.0.token_ids"

    # token ids made by another vectoriser mean other words: refused, not answered confidently and wrongly
    question = {"instances": [{"token_ids": vectorise("how do i get my refund money back")}]}
    other = client.post("/v1/models/helpbot/predict", json=question, headers={"X-Vectoriser": "hash-ngram-v0:1024"})
    assert other.status_code == 503
    assert (other.json or {})["error"]["code"] == "vectoriser_mismatch"


class Recording(ModelRegistry):
    """Records what would be published (no MLflow): the second training only needs the candidate."""

    def __init__(self) -> None:
        self.published: list[TrainedCandidate] = []

    def publish(self, candidate: TrainedCandidate) -> Any:
        self.published.append(candidate)
        return type("V", (), {"version": len(self.published)})()

    def version_by_alias(self, name: str, alias: str) -> Any:
        raise NotImplementedError

    def version(self, name: str, version: int) -> Any:
        raise NotImplementedError

    def latest_version(self, name: str) -> Any:
        raise NotImplementedError

    def fetch(self, model_version: Any, into: Path) -> Any:
        raise NotImplementedError

    def set_alias(self, name: str, alias: str, version: int) -> None:
        raise NotImplementedError


class Tables(TrainingDataSource):
    def __init__(self, locations: dict[str, Path]) -> None:
        self.locations = locations

    def locate(self, table: str, version: int | None = None) -> TableLocation:
        return directory_table(table, self.locations[table])

    def hold(self, table: str, version: int, holder: str) -> None:
        pass  # the helpbot is rebuilt through the DVC pipeline, not from a held lake version


def test_the_threshold_never_depends_on_the_heldout_questions(trained: Trained, tmp_path: Path) -> None:
    """Other held-out questions change the held-out metrics, never the threshold chosen on validation."""
    import pyarrow.parquet as pq

    other = help_tables(heldout_seed=99)
    locations = {}
    for name, table in {**trained.tables, "processed.help_heldout": other["processed.help_heldout"]}.items():
        locations[name] = tmp_path / name
        pq.write_to_dataset(table.append_column("part", pa.array(["x"] * table.num_rows)), str(locations[name]),
                            partition_cols=["part"])  # fmt: skip
    registry = Recording()

    summary = train_helpbot(Tables(locations), registry)

    assert summary["threshold"] == trained.summary["threshold"]
    assert summary["validation_answered_accuracy"] == trained.summary["validation_answered_accuracy"]
    assert summary["heldout_accuracy"] != trained.summary["heldout_accuracy"] or (
        summary["out_of_scope_rejection"] != trained.summary["out_of_scope_rejection"]
    )
    assert registry.published[0].tags["threshold"] == repr(float(registry.published[0].tags["threshold"]))


def test_training_on_an_empty_table_fails_with_one_clear_reason(trained: Trained, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    locations = {name: tmp_path / "empty" for name in trained.tables}

    with pytest.raises(TrainingDataError, match=r"processed\.help_examples is empty"):
        train_helpbot(Tables(locations), Recording())


def test_train_helpbot_without_the_tables_exits_1_with_one_line(tmp_path: Path) -> None:
    server, url = serve_lake(tmp_path / "var")
    try:
        env = {"STRATA_VAR_DIR": str(tmp_path / "var"), "STRATA_DATA_LAKE_URL": url, "STRATA_LOG_LEVEL": "WARNING"}
        result = run_cli(env, "train", "helpbot")
    finally:
        server.shutdown()

    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line == "error: table processed.help_examples does not exist"


def test_training_again_from_the_same_tables_gives_the_same_weights_and_answers(
    trained: Trained, tmp_path: Path
) -> None:
    """TensorFlow with seeded initialisers and shuffles and deterministic ops: the weights' bytes are the same.
    The .keras archive's own bytes are not (Keras writes the save date and a memory address into it): the
    fingerprint leaves exactly those out."""
    import zipfile

    from inference_fakes import RecordingRegistry

    from inference_engine import artifact_identity as identity

    settings = trained.settings.model_copy(update={"data_lake_url": trained.env["STRATA_DATA_LAKE_URL"]})
    registry = bootstrap(trained.settings).registry
    first = registry.fetch(registry.version("helpbot", 1), tmp_path / "first").model_file
    again = RecordingRegistry(tmp_path / "again")
    train_helpbot(bootstrap(settings).training_data, again)
    second = again.model_path(1)

    assert identity.fingerprint(first, "tensorflow") == identity.fingerprint(second, "tensorflow")
    tags = registry.version("helpbot", 1).tags
    assert tags["provenance.fingerprint"] == again.candidates[0].tags["provenance.fingerprint"]
    assert json.loads(tags["provenance.lake_tables"]) == {
        "processed.help_articles": 1,
        "processed.help_examples": 1,
        "processed.help_heldout": 1,
    }
    from inference_engine.catalog import model_versions

    listed = model_versions(registry, "helpbot", None)["versions"][0]["provenance"]
    assert listed["fingerprint"] == tags["provenance.fingerprint"] and listed["tensorflow"][0].isdigit()
    assert isinstance(registry, ModelDocuments), "the configured registry keeps no documents of a version"
    sample = registry.document(registry.version("helpbot", 1), identity.SAMPLE_DOCUMENT)
    assert sample == again.candidates[0].documents[identity.SAMPLE_DOCUMENT]
    np.testing.assert_array_equal(identity.predict_sample(second, "tensorflow", sample), sample["predictions"])
    with zipfile.ZipFile(first / "model.keras") as a, zipfile.ZipFile(second / "model.keras") as b:
        assert a.read("model.weights.h5") == b.read("model.weights.h5")
