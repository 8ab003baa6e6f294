"""Dependencies under a routing record, with fakes at its ports (registry, runtime factory, prediction log)."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from inference_fakes import FakeRegistry

from inference_engine.bootstrap import Dependencies, bootstrap
from inference_engine.domain.models import ModelArtifact, ModelVersion
from inference_engine.domain.routing import RoutingRecord
from inference_engine.domain.signature import Instance
from inference_engine.errors import ModelNotFound, VersionNotFound
from inference_engine.ports import ModelRegistry, ModelRuntime, TrainedCandidate
from inference_engine.routing.errors import RoutedByRecord, VersionNotLoadable
from inference_engine.routing.ports import PredictionEntry, PredictionLog
from inference_engine.routing.shadow import ShadowExecutor
from inference_engine.runtimes import create_runtime
from inference_engine.runtimes.partitioned_runtime import create_runtime_with_partitions
from inference_engine.serving import ServingObserver
from inference_engine.settings import Settings

INSTANCE = {"a__x": 1.0, "a__y": 2.0, "b__z": 3.0}
BODY = {"instances": [INSTANCE]}


class RecordingLog(PredictionLog):
    def __init__(self) -> None:
        self.entries: list[PredictionEntry] = []

    def record(self, entry: PredictionEntry) -> None:
        self.entries.append(entry)


class RecordingObserver(ServingObserver):
    def __init__(self) -> None:
        self.shadow_failures: list[str] = []
        self.revisions: dict[str, int] = {}

    def shadow_failed(self, model: str) -> None:
        self.shadow_failures.append(model)

    def routing_applied(self, model: str, revision: int) -> None:
        self.revisions[model] = revision


class Faulty(ModelRuntime):
    """The real runtime, except that chosen versions fail to load or to predict."""

    def __init__(self, artifact: ModelArtifact, broken_load: set[int], broken_predict: set[int]) -> None:
        super().__init__(artifact)
        self._inner = create_runtime(artifact)
        self._version = artifact.model_version.version
        self._broken_load, self._broken_predict = broken_load, broken_predict
        self.warmed = False

    def load(self) -> None:
        if self._version in self._broken_load:
            raise OSError(f"model file of v{self._version} is corrupt")
        self._inner.load()

    def warm_up(self, predictions: int) -> None:
        self.warmed = True

    def predict(self, instances: Sequence[Instance]) -> list[float]:
        if self._version in self._broken_predict:
            raise ValueError("candidate exploded")
        return self._inner.predict(instances)


def service_over(
    registry: ModelRegistry,
    tmp_path: Path,
    *,
    broken_load: set[int] | None = None,
    broken_predict: set[int] | None = None,
    **overrides: Any,
) -> Dependencies:
    def factory(artifact: ModelArtifact) -> ModelRuntime:
        return Faulty(artifact, broken_load or set(), broken_predict or set())

    return serving(registry, tmp_path, runtime_factory=factory, **overrides)


def serving(registry: ModelRegistry, tmp_path: Path, **overrides: Any) -> Dependencies:
    """The engine's serving parts as its composition root wires them, with fakes at the given ports."""
    settings = Settings(var_dir=tmp_path / "var", models=["etd"], prediction_log=False, routing_poll_seconds=0)
    return bootstrap(settings, registry=registry, **overrides)


def canary(revision: int, weight: float, stable: int = 1, candidate: int = 2) -> RoutingRecord:
    return RoutingRecord("etd", revision, stable, candidate, "canary", weight)


def answer(service: Dependencies, key: str = "k") -> tuple[int, float, str]:
    prediction = service.predictor.predict("etd", BODY, routing_key=key, request_id="r-1")
    score = prediction.predictions[0]
    assert isinstance(score, float)
    return prediction.version, round(score), str(prediction.to_dict()["route"])


def test_without_a_record_the_production_alias_answers_on_the_stable_route(
    registry: FakeRegistry, tmp_path: Path
) -> None:
    service = service_over(registry, tmp_path)
    assert service.routing_table.load_configured()

    assert answer(service) == (1, 10, "stable")
    assert service.routing_table.routing("etd")["source"] == "alias:production"
    assert service.routing_table.routing("etd")["stable_version"] == 1


def test_a_canary_at_100_sends_every_key_to_the_loaded_and_warmed_candidate(
    registry: FakeRegistry, tmp_path: Path
) -> None:
    service = service_over(registry, tmp_path)
    service.routing_table.load_configured()

    deployment = service.routing_table.apply_routing(canary(1, 100))

    assert deployment.candidate is not None and deployment.candidate.runtime.warmed  # type: ignore[attr-defined]
    assert {answer(service, f"c-{i}") for i in range(20)} == {(2, 20, "canary")}


def test_requests_are_answered_by_the_old_routing_while_the_candidate_loads(
    registry: FakeRegistry, tmp_path: Path
) -> None:
    loading, release = threading.Event(), threading.Event()

    class SlowLoad(Faulty):
        def load(self) -> None:
            if self._version == 2:
                loading.set()
                release.wait(5)
            super().load()

    service = serving(registry, tmp_path, runtime_factory=lambda a: SlowLoad(a, set(), set()))
    service.routing_table.load_configured()
    applying = threading.Thread(target=service.routing_table.apply_routing, args=(canary(1, 100),))
    applying.start()
    assert loading.wait(5)

    assert answer(service) == (1, 10, "stable")  # the candidate is not half-served while it loads
    release.set()
    applying.join(5)
    assert answer(service) == (2, 20, "canary")


def test_a_candidate_that_fails_to_load_leaves_the_old_routing_serving(registry: FakeRegistry, tmp_path: Path) -> None:
    observer = RecordingObserver()
    service = service_over(registry, tmp_path, broken_load={2}, observer=observer)
    service.routing_table.load_configured()

    with pytest.raises(VersionNotLoadable, match="v2 could not be loaded: OSError"):
        service.routing_table.apply_routing(canary(1, 100))

    assert answer(service) == (1, 10, "stable")
    assert service.routing_table.routing("etd")["revision"] == 0
    assert observer.revisions == {}


def test_an_unknown_version_or_model_changes_nothing(registry: FakeRegistry, tmp_path: Path) -> None:
    service = service_over(registry, tmp_path)
    service.routing_table.load_configured()

    with pytest.raises(VersionNotFound):
        service.routing_table.apply_routing(canary(1, 100, candidate=9))
    with pytest.raises(ModelNotFound):
        service.routing_table.apply_routing(RoutingRecord("chatbot", 1, 1))
    assert answer(service) == (1, 10, "stable")


def test_a_revision_not_above_the_applied_one_is_ignored(registry: FakeRegistry, tmp_path: Path) -> None:
    observer = RecordingObserver()
    service = service_over(registry, tmp_path, observer=observer)
    service.routing_table.load_configured()
    service.routing_table.apply_routing(canary(5, 100))

    for stale in (canary(5, 0), RoutingRecord("etd", 4, 1)):
        applied = service.routing_table.apply_routing(stale)
        assert applied.record == canary(5, 100)
    assert answer(service) == (2, 20, "canary")
    assert observer.revisions == {"etd": 5}


def test_a_full_record_moves_the_alias_and_frees_the_versions_it_no_longer_needs(
    registry: FakeRegistry, tmp_path: Path
) -> None:
    service = service_over(registry, tmp_path)
    service.routing_table.load_configured()
    service.routing_table.apply_routing(canary(1, 50))
    fetches = registry.fetches

    service.routing_table.apply_routing(RoutingRecord("etd", 2, 2, None, "full", 0))

    assert registry.aliases[("etd", "production")] == 2
    assert service.routing_table.describe("etd").version == 2
    assert service.routing_table.describe("etd").alias == "production"
    assert {answer(service, f"c-{i}") for i in range(20)} == {(2, 20, "stable")}
    assert registry.fetches == fetches  # v2 was already loaded: reused, not fetched again
    service.routing_table.apply_routing(canary(3, 50, stable=2, candidate=1))
    assert registry.fetches == fetches + 1  # v1 had been freed, so it is loaded afresh


def test_an_alias_reload_is_refused_while_a_record_routes_the_model(registry: FakeRegistry, tmp_path: Path) -> None:
    service = service_over(registry, tmp_path)
    service.routing_table.load_configured()
    service.routing_table.apply_routing(canary(1, 10))

    with pytest.raises(RoutedByRecord):
        service.routing_table.reload("etd")
    assert service.routing_table.load_configured()  # the background loader sees the model served


def test_shadow_answers_with_stable_and_logs_the_candidates_score(registry: FakeRegistry, tmp_path: Path) -> None:
    log, shadow = RecordingLog(), ShadowExecutor()
    service = service_over(registry, tmp_path, prediction_log=log, shadow=shadow)
    service.routing_table.load_configured()
    service.routing_table.apply_routing(RoutingRecord("etd", 1, 1, 2, "shadow", 0))

    assert [answer(service, f"c-{i}") for i in range(5)] == [(1, 10, "stable")] * 5
    assert shadow.join()

    shadows = [entry for entry in log.entries if entry.route == "shadow"]
    assert [(e.version, round(e.prediction), e.error) for e in shadows] == [(2, 20, None)] * 5
    assert [e.version for e in log.entries if e.route == "stable"] == [1] * 5


def test_a_crashing_shadow_never_fails_the_request_and_is_logged_and_counted(
    registry: FakeRegistry, tmp_path: Path
) -> None:
    log, shadow, observer = RecordingLog(), ShadowExecutor(), RecordingObserver()
    service = service_over(registry, tmp_path, broken_predict={2}, prediction_log=log, shadow=shadow,
                           observer=observer)  # fmt: skip
    service.routing_table.load_configured()
    service.routing_table.apply_routing(RoutingRecord("etd", 1, 1, 2, "shadow", 0))

    assert [answer(service, f"c-{i}") for i in range(3)] == [(1, 10, "stable")] * 3
    assert shadow.join()

    failed = [entry for entry in log.entries if entry.route == "shadow"]
    assert [(e.version, e.error) for e in failed] == [(2, "ValueError: candidate exploded")] * 3
    assert observer.shadow_failures == ["etd"] * 3


def test_a_failing_canary_is_logged_as_an_error_and_the_caller_sees_it(registry: FakeRegistry, tmp_path: Path) -> None:
    log = RecordingLog()
    service = service_over(registry, tmp_path, broken_predict={2}, prediction_log=log)
    service.routing_table.load_configured()
    service.routing_table.apply_routing(canary(1, 100))

    with pytest.raises(ValueError, match="exploded"):
        service.predictor.predict("etd", BODY, routing_key="k", request_id="r-9")

    assert [(e.request_id, e.version, e.route, e.error) for e in log.entries] == [
        ("r-9", 2, "canary", "ValueError: candidate exploded")
    ]


# --- node pins of a partitioned candidate ------------------------------------------------------------------
PARTITION_BY = ["country_code", "city_id"]
ROUTES = {(): "global", ("NL",): "country_code=NL", ("NL", "c-ams"): "country_code=NL/city_id=c-ams"}


def write_partitioned(directory: Path, scores: dict[str, float]) -> None:
    """A partitioned model whose every node predicts a constant (a linear model with zero weights)."""
    (directory / "models").mkdir(parents=True)
    files = {}
    for number, (node, score) in enumerate(scores.items()):
        files[node] = f"models/n{number}.json"
        body = {"kind": "regression", "means": [0.0], "coef": [0.0], "intercept": score}
        (directory / files[node]).write_text(json.dumps(body))
    routing = {"algorithm": "linear_regression", "models": files, "features": ["f"], "partition_by": PARTITION_BY,
               "routes": [{"key": list(key), "served_by": node} for key, node in ROUTES.items()]}  # fmt: skip
    (directory / "routing.json").write_text(json.dumps(routing))
    (directory / "report.json").write_text(json.dumps({"nodes": []}))


class PartitionedRegistry(ModelRegistry):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.aliases: dict[str, int] = {}

    def version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self.version(name, self.aliases[alias])

    def version(self, name: str, version: int) -> ModelVersion:
        if not (self.root / str(version)).is_dir():
            raise VersionNotFound(f"model {name} has no version {version}")
        return ModelVersion(name, version, ("f",), "partitioned")

    def latest_version(self, name: str) -> ModelVersion:
        raise NotImplementedError

    def fetch(self, model_version: ModelVersion, into: Path) -> ModelArtifact:
        import shutil

        shutil.copytree(self.root / str(model_version.version), into / "model")
        return ModelArtifact(model_version, into / "model")

    def set_alias(self, name: str, alias: str, version: int) -> None:
        self.aliases[alias] = version

    def publish(self, candidate: TrainedCandidate) -> ModelVersion:
        raise NotImplementedError


@pytest.fixture
def partitioned(tmp_path: Path) -> Dependencies:
    registry = PartitionedRegistry(tmp_path / "registry")
    nodes = list(ROUTES.values())
    write_partitioned(registry.root / "1", dict.fromkeys(nodes, 10.0))
    write_partitioned(registry.root / "2", dict(zip(nodes, [20.0, 21.0, 22.0], strict=True)))
    registry.aliases["production"] = 1
    service = serving(registry, tmp_path, runtime_factory=create_runtime_with_partitions)
    assert service.routing_table.load_configured()
    return service


def routed(service: Dependencies, instances: list[dict[str, Any]]) -> dict[str, Any]:
    return service.predictor.predict("etd", {"instances": instances}, routing_key="k", request_id="r").to_dict()


def place(country: str | None, city: str | None = None) -> dict[str, Any]:
    return {"f": 1.0, "country_code": country, "city_id": city}


def test_a_pinned_node_and_the_nodes_below_it_are_answered_by_the_pinned_version(partitioned: Dependencies) -> None:
    partitioned.routing_table.apply_routing(RoutingRecord("etd", 1, 1, 2, "canary", 100, {"country_code=NL": 1}))

    body = routed(partitioned, [place("FR", "c-par"), place("NL", "c-ams"), place("NL", "c-rot"), place(None)])

    assert body["predictions"] == pytest.approx([20.0, 10.0, 10.0, 20.0])
    assert body["versions"] == ["2", "1", "1", "2"]
    # the node each answering version routed to (v1 has the same tree here)
    assert body["nodes"] == ["global", "country_code=NL/city_id=c-ams", "country_code=NL", "global"]
    assert (body["version"], body["route"]) == ("2", "canary")


def test_a_single_pinned_instance_says_the_version_and_route_that_answered(partitioned: Dependencies) -> None:
    partitioned.routing_table.apply_routing(
        RoutingRecord("etd", 1, 1, 2, "canary", 100, {"country_code=NL/city_id=c-ams": 1})
    )

    pinned = routed(partitioned, [place("NL", "c-ams")])
    unpinned = routed(partitioned, [place("NL", "c-rot")])

    assert (pinned["version"], pinned["route"], pinned["predictions"]) == ("1", "stable", [10.0])
    assert "versions" not in pinned
    assert (unpinned["version"], unpinned["route"], unpinned["node"]) == ("2", "canary", "country_code=NL")
    assert unpinned["predictions"] == pytest.approx([21.0])
