"""Per-model change locks (local and Redis): changes of one model are serialised; a waiter gives up with 409."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from comparative_eval.adapters.locks import LocalLocks, RedisLocks
from comparative_eval.errors import LockTimeout
from comparative_eval.ports import ModelLocks
from tests.comparative_eval.fakes import World


@pytest.fixture(params=["local", "redis"])
def make_locks(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[type]:
    prefix = f"strata-test-{uuid.uuid4().hex[:8]}"
    opened: list[RedisLocks] = []

    def factory(timeout: float) -> ModelLocks:
        if request.param == "local":
            return LocalLocks(tmp_path / "locks", timeout)
        locks = RedisLocks("redis://127.0.0.1:6379/0", timeout, ttl_seconds=10, prefix=prefix)
        opened.append(locks)
        return locks

    if request.param == "redis":
        import redis

        try:
            redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()
        except redis.exceptions.ConnectionError:
            pytest.skip("Redis unreachable at 127.0.0.1:6379")
    yield factory  # type: ignore[misc]
    for locks in opened:
        locks.close()


def test_two_holders_of_one_model_never_overlap(make_locks) -> None:
    # two lock objects = two processes/hosts; each thread uses its own
    first, second = make_locks(2.0), make_locks(2.0)
    spans: list[tuple[float, float]] = []

    def change(locks: ModelLocks) -> None:
        with locks.hold("etd"):
            started = time.monotonic()
            time.sleep(0.15)
            spans.append((started, time.monotonic()))

    threads = [threading.Thread(target=change, args=(locks,)) for locks in (first, second, first)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    spans.sort()
    assert len(spans) == 3
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(spans))


def test_a_waiter_gives_up_after_the_timeout_and_other_models_are_free(make_locks) -> None:
    holder, waiter = make_locks(2.0), make_locks(0.2)
    with holder.hold("etd"):
        started = time.monotonic()
        with pytest.raises(LockTimeout, match="another change of model etd"), waiter.hold("etd"):
            pass
        assert 0.1 <= time.monotonic() - started < 1.5
        with waiter.hold("helpbot"):
            pass
    with waiter.hold("etd"):  # released
        pass


def test_two_concurrent_deploys_both_land_one_after_the_other(world: World) -> None:
    # a slow clock widens the window between reading the current record and appending the next one
    clock = world.clock

    def slow_clock():
        time.sleep(0.2)
        return clock.now

    world.deployments._clock = slow_clock  # the service's injected clock port
    results = []
    errors: list[BaseException] = []

    def deploy(version: str) -> None:
        try:
            results.append(world.deployments.deploy("etd", version, "canary", weight=10).record)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=deploy, args=(v,)) for v in ("2", "3")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(r.revision for r in results) == [1, 2]
    history = world.deployments.history("etd")
    assert [r.revision for r in history] == [2, 1]
    assert {r.candidate_version for r in history} == {"2", "3"}
