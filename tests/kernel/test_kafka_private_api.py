"""The Kafka consumer reads kafka-python's private group coordinator to know a rebalance is under way
(strata_kernel/eventlog/kafka.py `_joining`). kafka-python has no public view of it, so an upgrade that renames it
must fail here, loudly, rather than leave a stream worker that never rejoins its group."""

import inspect

from kafka import KafkaConsumer
from kafka.coordinator.consumer import ConsumerCoordinator


def test_the_consumer_keeps_its_group_coordinator_where_the_event_log_reads_it() -> None:
    assert "self._coordinator = ConsumerCoordinator(" in inspect.getsource(KafkaConsumer.__init__)


def test_the_coordinator_still_answers_whether_the_group_is_stable_and_must_rejoin() -> None:
    for method in ("stable", "need_rejoin"):
        assert callable(getattr(ConsumerCoordinator, method, None)), f"ConsumerCoordinator.{method} is gone"
        assert list(inspect.signature(getattr(ConsumerCoordinator, method)).parameters) == ["self"]
