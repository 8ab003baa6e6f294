"""Deployment use cases over fakes at the engine port and a real SQLite store."""

from __future__ import annotations

import pytest

from comparative_eval.errors import ChangeConflict, InvalidChange, UnknownModel, ValidationFailed
from strata_kernel.errors import NotFound, Unavailable
from tests.comparative_eval.fakes import World


def test_first_full_deploy_creates_revision_one_and_pushes_its_routing(world: World) -> None:
    result = world.deployments.deploy("etd", 1, "full", reason="first")
    assert result.pushed and result.push_reason is None
    record = result.record
    assert (record.revision, record.stable_version, record.candidate_version, record.mode) == (1, "1", None, "full")
    assert world.engine.pushed == [record.routing()]
    # validated before any traffic, with the sample file (no logged predictions yet) and the template's budget
    assert world.engine.validated == [("etd", "1", 5, 50.0)]


def test_first_canary_takes_the_stable_version_from_the_engine(world: World) -> None:
    record = world.deployments.deploy("etd", "2", "canary").record
    assert (record.revision, record.stable_version, record.candidate_version) == (1, "1", "2")
    assert (record.mode, record.weight, record.step) == ("canary", 5, 0)


def test_canary_of_a_model_the_engine_does_not_serve_is_404(world: World) -> None:
    world.engine.serving.clear()
    with pytest.raises(UnknownModel, match="no stable version"):
        world.deployments.deploy("etd", "2", "canary")


def test_validation_refusal_changes_nothing_but_the_audit(world: World) -> None:
    world.deployments.deploy("etd", "1", "full")
    world.engine.refusals["2"] = ["feature order__x is not in the serving schema", "p99 80 ms over budget 50 ms"]
    with pytest.raises(ValidationFailed, match="order__x") as caught:
        world.deployments.deploy("etd", "2", "canary")
    assert caught.value.status == 422
    current = world.deployments.current("etd")
    assert (current.revision, current.stable_version, current.candidate_version) == (1, "1", None)
    assert len(world.engine.pushed) == 1  # only the first deploy reached the engine
    refused = world.deployments.audit("etd")[0]
    assert (refused["action"], refused["outcome"]) == ("validate", "refused")
    assert "p99 80 ms" in refused["detail"]["problems"][1]


def test_unknown_version_is_404_and_records_nothing(world: World) -> None:
    with pytest.raises(NotFound):
        world.deployments.deploy("etd", "99", "full")
    with pytest.raises(UnknownModel):
        world.deployments.current("etd")


def test_no_sample_at_all_refuses_the_deploy(world: World) -> None:
    (world.samples_dir / "etd.json").unlink()
    with pytest.raises(ValidationFailed, match="no sample to validate with"):
        world.deployments.deploy("etd", "1", "full")


def test_a_failed_push_still_records_and_says_so(world: World) -> None:
    world.engine.push_error = Unavailable("inference_engine unavailable: connection refused")
    result = world.deployments.deploy("etd", "1", "full")
    assert result.pushed is False
    assert result.push_reason is not None and "connection refused" in result.push_reason
    assert world.deployments.current("etd").revision == 1  # the poller will converge on it


def test_promote_walks_the_template_steps_then_makes_the_candidate_stable(world: World) -> None:
    world.deployments.deploy("etd", "1", "full")
    world.deployments.deploy("etd", "2", "shadow")
    seen = []
    for _ in range(4):
        record = world.deployments.promote("etd").record
        seen.append((record.mode, record.weight, record.stable_version, record.candidate_version))
    assert seen == [
        ("canary", 5, "1", "2"),
        ("canary", 25, "1", "2"),
        ("canary", 50, "1", "2"),
        ("full", 100, "2", None),
    ]
    with pytest.raises(ChangeConflict, match="no candidate"):
        world.deployments.promote("etd")


def test_promote_full_goes_straight_to_stable(world: World) -> None:
    world.deployments.deploy("etd", "2", "canary", weight=30)
    record = world.deployments.promote("etd", full=True).record
    assert (record.mode, record.stable_version, record.candidate_version) == ("full", "2", None)


def test_rollback_drops_the_candidate_and_keeps_the_stable(world: World) -> None:
    world.deployments.deploy("etd", "1", "full")
    world.deployments.deploy("etd", "2", "canary", weight=25)
    record = world.deployments.rollback("etd", reason="bad quotes").record
    assert (record.mode, record.stable_version, record.candidate_version, record.reason) == (
        "full",
        "1",
        None,
        "bad quotes",
    )
    assert world.engine.pushed[-1]["candidate_version"] is None


def test_rollback_of_one_node_pins_it_and_leaves_the_rest_of_the_canary(world: World) -> None:
    world.deployments.deploy("etd", "2", "canary", weight=25)
    record = world.deployments.rollback("etd", node="country_code=NL/city_id=c-0001").record
    assert (record.mode, record.weight, record.candidate_version) == ("canary", 25, "2")
    assert record.node_pins == {"country_code=NL/city_id=c-0001": "1"}


def test_changes_need_a_candidate_or_well_formed_input(world: World) -> None:
    world.deployments.deploy("etd", "1", "full")
    with pytest.raises(ChangeConflict):
        world.deployments.rollback("etd")
    with pytest.raises(ChangeConflict):
        world.deployments.set_weight("etd", 10)
    with pytest.raises(InvalidChange) as caught:
        world.deployments.deploy("etd", "1", "canary")  # already stable
    assert caught.value.field == "version"
    with pytest.raises(InvalidChange) as caught:
        world.deployments.deploy("etd", "x", "full")
    assert caught.value.field == "version"
    with pytest.raises(InvalidChange) as caught:
        world.deployments.deploy("etd", "2", "canary", weight=101)
    assert caught.value.field == "weight"


def test_history_is_newest_first_and_answers_what_served_at_an_instant(world: World) -> None:
    world.deployments.deploy("etd", "1", "full")
    world.clock.advance(60)
    world.deployments.deploy("etd", "2", "canary", weight=5)
    middle = world.clock.now
    world.clock.advance(60)
    world.deployments.set_weight("etd", 50)
    assert [r.revision for r in world.deployments.history("etd")] == [3, 2, 1]
    [in_force] = world.deployments.history("etd", at=middle)
    assert (in_force.revision, in_force.weight) == (2, 5)
    assert world.deployments.history("etd", at=middle.replace(year=2000)) == []
    with pytest.raises(UnknownModel):
        world.deployments.history("nope")
