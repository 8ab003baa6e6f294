"""A commit the broker refuses because the group is rebalancing is not an outage (strata_kernel/eventlog/kafka.py).

Seen in CI: a stream worker read a batch, a second worker joined before it committed, kafka-python raised
RebalanceInProgressError from commit, the adapter turned it into Unavailable and the worker process exited, so its
partitions went unread once the second worker left. The broker is not needed to show the adapter's answer: the
kafka-python consumer below the adapter is replaced by one whose commit raises what the broker answered.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from kafka import errors

from strata_kernel.errors import Unavailable
from strata_kernel.eventlog.kafka import _KafkaConsumer


class _Refusing:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.commits = 0

    def commit(self) -> None:
        self.commits += 1
        raise self.error


def _consumer(library_consumer: Any) -> _KafkaConsumer:
    consumer = _KafkaConsumer.__new__(_KafkaConsumer)  # no broker: only commit is exercised
    consumer._consumer, consumer._topic = library_consumer, "etd.order_placed"
    return consumer


REFUSALS = [
    errors.RebalanceInProgressError(),
    errors.CommitFailedError(),
    errors.IllegalGenerationError(),
    errors.UnknownMemberIdError(),
]


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda error: type(error).__name__)
def test_a_commit_refused_by_a_rebalance_is_logged_and_the_events_come_again(
    refusal: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    library = _Refusing(refusal)
    with caplog.at_level(logging.WARNING, logger="strata_kernel.eventlog.kafka"):
        _consumer(library).commit()  # no exception: the caller reads on, the next poll rejoins
    assert library.commits == 1
    assert f"commit on etd.order_placed refused by a rebalance ({type(refusal).__name__})" in caplog.text


def test_a_broker_that_is_gone_is_still_an_outage() -> None:
    with pytest.raises(Unavailable, match=r"kafka unavailable \(commit etd\.order_placed\)"):
        _consumer(_Refusing(errors.KafkaTimeoutError())).commit()
