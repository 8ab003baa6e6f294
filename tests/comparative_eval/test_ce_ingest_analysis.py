"""The consumer joins predictions with ETD and chatbot outcomes from a local event log (idempotent across a
restart and a batch delivered again after a refused commit), and the analysis loop acts on its verdicts: automatic
rollback and step-by-step promotion."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from comparative_eval.domain.events import DELIVERED_TOPIC, FEEDBACK_TOPIC, PREDICTIONS_TOPIC
from comparative_eval.errors import NoAnalysis
from comparative_eval.ingest import TOPICS, Ingestor
from strata_kernel.contracts.events import HelpFeedbackGiven, OrderDelivered
from strata_kernel.eventlog import Event, EventConsumer, EventLog
from strata_kernel.eventlog.local import LocalEventLog
from tests.comparative_eval.fakes import World
from tests.support import RebalancedEventLog


def predicted(
    request_id: str,
    version: str,
    route: str,
    value: Any,
    at: datetime,
    model: str = "etd",
    outcome: str = "ok",
    latency: float = 4.0,
) -> dict[str, Any]:
    return {
        "event_id": f"p-{request_id}-{route}",
        "event_time": at.isoformat() + "Z",
        "request_id": request_id,
        "model": model,
        "version": version,
        "route": route,
        "routing_key": request_id,
        "node": None,
        "instance": {"order__n_items": 2},
        "prediction": value,
        "latency_ms": latency,
        "outcome": outcome,
        "error": None if outcome == "ok" else "boom",
    }


def delivered(request_id: str | None, minutes: float) -> dict[str, Any]:
    placed = datetime(2025, 3, 1, 12, 0)
    return OrderDelivered(
        event_id=f"d-{request_id}",
        order_id=f"o-{request_id}",
        restaurant_id="r-1",
        placed_at=placed,
        delivered_at=placed + timedelta(minutes=minutes),
        prep_minutes=min(10.0, minutes),
        delivery_minutes=minutes,
        quote_request_id=request_id,
    ).to_wire()


def feedback(event_id: str, request_id: str, helpful: bool) -> dict[str, Any]:
    return HelpFeedbackGiven(
        event_id=event_id,
        event_time=datetime(2025, 3, 1, 12, 0),
        feedback_id=f"fb-{event_id}",
        question_id=f"q-{request_id}",
        helpful=helpful,
        answer_source="model",
        model="helpbot",
        model_version="1",
        request_id=request_id,
    ).to_wire()


def test_predictions_and_outcomes_join_and_a_restart_stores_nothing_twice(world: World, tmp_path: Path) -> None:
    log = LocalEventLog(tmp_path / "eventlog")
    at = world.clock.now
    log.publish(
        PREDICTIONS_TOPIC,
        [
            predicted("r1", "1", "stable", 30.0, at),
            predicted("r2", "2", "canary", 20.0, at),
            predicted("h1", "1", "stable", "art-1", at, model="helpbot"),
            {"event_id": "bad", "route": "sideways"},
        ],
        key_field=None,
    )
    log.publish(DELIVERED_TOPIC, [delivered("r1", 33.0), delivered("r2", 26.0), delivered(None, 40.0)])
    log.publish(FEEDBACK_TOPIC, [feedback("f1", "h1", helpful=True)])
    ingestor = Ingestor(log, world.database.unit_of_work, world.metrics)
    assert ingestor.drain() == 8
    ingestor.close()
    joined = world.registry.get_sample_value
    assert joined("strata_comparative_eval_joined_samples_total", {"route": "stable"}) == 2.0
    assert joined("strata_comparative_eval_joined_samples_total", {"route": "canary"}) == 1.0
    assert joined("strata_comparative_eval_events_total", {"topic": PREDICTIONS_TOPIC, "outcome": "invalid"}) == 1.0

    # a restarted consumer resumes after its commits; the same events published again (a producer retry) are ignored
    log.publish(DELIVERED_TOPIC, [delivered("r1", 99.0)])
    log.publish(PREDICTIONS_TOPIC, [predicted("r1", "1", "stable", 30.0, at)])
    restarted = Ingestor(log, world.database.unit_of_work, world.metrics)
    assert restarted.drain() == 2
    restarted.close()
    with world.database.unit_of_work() as uow:
        [stable] = uow.samples.window("etd", "1", ["stable"], at)
        [canary] = uow.samples.window("etd", "2", ["canary"], at)
        [answer] = uow.samples.window("helpbot", "1", ["stable"], at)
    assert (stable.abs_error, canary.abs_error, answer.helpful) == (3.0, 6.0, True)


def test_a_batch_delivered_again_after_a_refused_commit_is_stored_and_joined_once(world: World, tmp_path: Path) -> None:
    """A rebalance refuses the offsets' commit (a warning, strata_kernel.eventlog.kafka) after the batch was stored:
    the same events come again and are ignored, so no sample is counted twice by the analysis, and no event is
    counted twice as stored, invalid or skipped."""
    log = RebalancedEventLog(LocalEventLog(tmp_path / "eventlog"), TOPICS)
    at = world.clock.now
    log.publish(PREDICTIONS_TOPIC, [predicted("r1", "1", "stable", 30.0, at), predicted("r2", "2", "canary", 20.0, at),
                                    predicted("h1", "1", "stable", "art-1", at, model="helpbot"),
                                    {"event_id": "bad", "route": "sideways"}])  # fmt: skip
    log.publish(DELIVERED_TOPIC, [delivered("r1", 33.0), delivered("r2", 26.0), delivered(None, 40.0)])
    log.publish(FEEDBACK_TOPIC, [feedback("f1", "h1", helpful=True)])

    ingestor = Ingestor(log, world.database.unit_of_work, world.metrics)
    assert ingestor.drain() == 16  # each of the 8 events twice
    ingestor.close()

    assert sorted(log.refused) == sorted(TOPICS)
    with world.database.unit_of_work() as uow:
        stable = uow.samples.window("etd", "1", ["stable"], at)
        canary = uow.samples.window("etd", "2", ["canary"], at)
        answers = uow.samples.window("helpbot", "1", ["stable"], at)
    assert ([o.abs_error for o in stable], [o.abs_error for o in canary], [o.helpful for o in answers]) == (
        [3.0], [6.0], [True])  # fmt: skip
    joined = world.registry.get_sample_value
    assert joined("strata_comparative_eval_joined_samples_total", {"route": "stable"}) == 2.0
    assert joined("strata_comparative_eval_joined_samples_total", {"route": "canary"}) == 1.0
    # the copies are counted as duplicates, not stored, invalid or skipped again
    events = {(topic, outcome): joined("strata_comparative_eval_events_total", {"topic": topic, "outcome": outcome})
              for topic in TOPICS for outcome in ("stored", "invalid", "skipped", "duplicate")}  # fmt: skip
    assert events == {(PREDICTIONS_TOPIC, "stored"): 3.0, (PREDICTIONS_TOPIC, "invalid"): 1.0,
                      (PREDICTIONS_TOPIC, "skipped"): None, (PREDICTIONS_TOPIC, "duplicate"): 4.0,
                      (DELIVERED_TOPIC, "stored"): 2.0, (DELIVERED_TOPIC, "invalid"): None,
                      (DELIVERED_TOPIC, "skipped"): 1.0, (DELIVERED_TOPIC, "duplicate"): 3.0,
                      (FEEDBACK_TOPIC, "stored"): 1.0, (FEEDBACK_TOPIC, "invalid"): None,
                      (FEEDBACK_TOPIC, "skipped"): None, (FEEDBACK_TOPIC, "duplicate"): 1.0}  # fmt: skip


class _Partitioned(EventLog):
    """A topic of several partitions (Kafka's): each poll hands out the next batch given, offsets per partition."""

    def __init__(self, batches: list[list[Event]]) -> None:
        self.batches = batches

    def publish(self, topic: str, events: Sequence[Mapping[str, Any]], key_field: str | None = None) -> None:
        raise NotImplementedError

    def consumer(self, topic: str, group: str) -> EventConsumer:
        return _PartitionedConsumer(self, topic)


class _PartitionedConsumer(EventConsumer):
    def __init__(self, log: _Partitioned, topic: str) -> None:
        self._log, self._topic = log, topic

    def poll(self, max_records: int = 500, timeout_seconds: float = 1.0) -> list[Event]:
        if self._topic != PREDICTIONS_TOPIC or not self._log.batches:
            return []
        return self._log.batches.pop(0)

    def commit(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_invalid_events_at_one_offset_of_two_partitions_are_two_events(world: World) -> None:
    """The offsets counted already are kept per partition: the first event of a second partition is not taken for a
    copy of the first partition's."""
    bad = {"event_id": "bad", "route": "sideways"}
    log = _Partitioned([[Event(PREDICTIONS_TOPIC, 0, None, bad, partition=0)],
                        [Event(PREDICTIONS_TOPIC, 0, None, bad | {"event_id": "worse"}, partition=1)]])  # fmt: skip
    ingestor = Ingestor(log, world.database.unit_of_work, world.metrics)
    assert ingestor.drain() == 2
    events = world.registry.get_sample_value
    assert events("strata_comparative_eval_events_total", {"topic": PREDICTIONS_TOPIC, "outcome": "invalid"}) == 2.0
    assert events("strata_comparative_eval_events_total", {"topic": PREDICTIONS_TOPIC, "outcome": "duplicate"}) is None


def traffic(log: LocalEventLog, start: datetime, n: int, candidate_error: float, seed: int) -> None:
    """n quotes per arm after ``start``, each delivered; candidate absolute errors scaled by ``candidate_error``."""
    rng = random.Random(seed)
    predictions, outcomes = [], []
    for i in range(n):
        at = start + timedelta(seconds=1 + i * 0.01)
        for route, version, scale in (("stable", "1", 4.0), ("canary", "2", candidate_error)):
            truth = 30.0 + rng.uniform(-5, 5)
            request_id = f"{route}-{seed}-{i}"
            predictions.append(predicted(request_id, version, route, truth + rng.gauss(0, scale), at))
            outcomes.append(delivered(request_id, truth))
    log.publish(PREDICTIONS_TOPIC, predictions)
    log.publish(DELIVERED_TOPIC, outcomes)


def test_a_clearly_worse_canary_is_rolled_back_by_the_analysis(world: World, tmp_path: Path) -> None:
    log = LocalEventLog(tmp_path / "eventlog")
    world.deployments.deploy("etd", "1", "full")
    world.clock.advance(1)
    canary = world.deployments.deploy("etd", "2", "canary").record
    ingestor = Ingestor(log, world.database.unit_of_work, world.metrics)

    traffic(log, world.clock.now, 20, candidate_error=12.0, seed=1)
    ingestor.drain()
    world.clock.advance(5)
    assert world.analysis.run_once() == []  # the template's 10 s interval is not due yet
    world.clock.advance(5)
    [held] = world.analysis.run_once()
    assert held.verdict == "hold" and held.action is None  # 20 of 40 samples

    traffic(log, world.clock.now - timedelta(seconds=5), 40, candidate_error=12.0, seed=2)
    ingestor.drain()
    world.clock.advance(10)
    [verdict] = world.analysis.run_once()
    assert verdict.verdict == "rollback", verdict.reasons
    assert verdict.action is not None and verdict.action.startswith("rolled back: revision 3")
    current = world.deployments.current("etd")
    assert (current.revision, current.mode, current.candidate_version, current.actor) == (3, "full", None, "analysis")
    assert current.reason.startswith("mae: candidate")
    assert world.engine.pushed[-1]["revision"] == 3
    stored = world.deployments.latest_verdict("etd")
    assert stored is not None and stored.revision == canary.revision and stored.at == verdict.at
    assert world.analysis.latest("etd").verdict == "rollback"  # the verdict that ended the canary
    world.clock.advance(1)
    world.deployments.deploy("etd", "1", "full")  # an operator's revision 4: the old verdict judged none before it
    with pytest.raises(NoAnalysis):
        world.analysis.latest("etd")
    value = world.registry.get_sample_value
    assert value("strata_comparative_eval_rollbacks_total", {"model": "etd", "actor": "analysis"}) == 1.0
    assert value("strata_comparative_eval_verdicts_total", {"model": "etd", "verdict": "rollback"}) == 1.0
    quality = {arm: value("strata_comparative_eval_arm_quality", {"model": "etd", "arm": arm, "metric": "mae"})
               for arm in ("stable", "candidate")}  # fmt: skip
    assert quality == {arm: verdict.metrics[arm]["mae"] for arm in quality}  # the figures the verdict judged
    assert quality["candidate"] > quality["stable"]  # type: ignore[operator]
    ingestor.close()


def test_an_equivalent_canary_is_promoted_step_by_step(world: World, tmp_path: Path) -> None:
    log = LocalEventLog(tmp_path / "eventlog")
    world.deployments.deploy("etd", "1", "full")
    world.clock.advance(1)
    world.deployments.deploy("etd", "2", "canary")
    ingestor = Ingestor(log, world.database.unit_of_work, world.metrics)
    weights = []
    for seed in range(4):
        traffic(log, world.clock.now, 60, candidate_error=4.0, seed=10 + seed)
        ingestor.drain()
        world.clock.advance(11)
        [verdict] = world.analysis.run_once()
        assert verdict.verdict == "promote", verdict.reasons
        current = world.deployments.current("etd")
        weights.append((current.mode, current.weight, current.stable_version))
        world.clock.advance(1)
        if current.mode == "full":
            break
    assert weights == [("canary", 25, "1"), ("canary", 50, "1"), ("full", 100, "2")]
    assert world.deployments.current("etd").actor == "analysis"
    value = world.registry.get_sample_value
    assert value("strata_comparative_eval_candidate_weight_percent", {"model": "etd"}) == 0.0
    ingestor.close()
