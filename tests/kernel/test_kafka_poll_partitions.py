"""Events polled from Kafka carry their partition: a topic has several (deploy/cluster.yaml: 3) and each numbers
its offsets from 0, so an offset says which event it is only with its partition (comparative_eval's ingest keeps the
offsets it counted per topic and partition). No broker: kafka-python's consumer is replaced by one that answers a
poll as it does, records by partition."""

from __future__ import annotations

from typing import Any

from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from strata_kernel.eventlog.kafka import _KafkaConsumer

TOPIC = "inference.predictions"


def _record(partition: int, offset: int, value: dict[str, Any]) -> ConsumerRecord:
    return ConsumerRecord(TOPIC, partition, -1, offset, 0, 0, b"k", value, [], None, 1, 1, -1)


class _Stable:
    def stable(self) -> bool:
        return True

    def need_rejoin(self) -> bool:
        return False


class _Library:
    """Two partitions assigned, a stable group, one poll's records by partition."""

    def __init__(self, records: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        self._coordinator = _Stable()
        self.records = records

    def assignment(self) -> set[TopicPartition]:
        return set(self.records)

    def poll(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[ConsumerRecord]]:
        return self.records


def test_two_events_at_one_offset_of_two_partitions_say_which_partition_they_are_in() -> None:
    consumer = _KafkaConsumer.__new__(_KafkaConsumer)  # no broker: only poll is exercised
    consumer._topic = TOPIC
    consumer._consumer = _Library(
        {TopicPartition(TOPIC, 0): [_record(0, 7, {"n": 0})], TopicPartition(TOPIC, 2): [_record(2, 7, {"n": 2})]}
    )
    polled = sorted((event.partition, event.offset, event.key, event.value["n"]) for event in consumer.poll())
    assert polled == [(0, 7, "k", 0), (2, 7, "k", 2)]
