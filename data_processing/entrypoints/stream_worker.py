"""Wiring of a streaming worker from the composition root (data_processing.bootstrap), and its process lifecycle."""

from __future__ import annotations

import signal
import threading
from typing import Any

from data_processing.bootstrap import Dependencies
from data_processing.streaming.group import load_streaming_group
from data_processing.streaming.metrics import MetricsServer, StreamMetrics
from data_processing.streaming.offline import LakeSink
from data_processing.streaming.state_sqlite import WindowStateStore
from data_processing.streaming.worker import StreamWorker, WorkerConfig


def consumer_group(group: str, topic: str) -> str:
    """One consumer group per topic: Kafka rebalances a group whenever any member joins, so sharing one
    across topics would stall both on every (re)start."""
    return f"data_processing.stream.{group}.{topic}"


def build_worker(deps: Dependencies, group_name: str) -> StreamWorker:
    """The worker of one streaming group, on the composition root's event log, online store, lake and metrics."""
    settings = deps.settings
    group = load_streaming_group(deps.feature_groups, group_name)
    consumers = [deps.event_log.consumer(topic, consumer_group(group.name, topic)) for topic in group.definition.topics]
    state_file = settings.resolved_stream_state_dir() / f"{group.name}.state.db"
    config = WorkerConfig(
        poll_timeout_seconds=settings.stream_poll_timeout_seconds,
        max_batch_events=settings.stream_max_batch_events,
        offline_flush_seconds=settings.stream_offline_flush_seconds,
        offline_flush_rows=settings.stream_offline_flush_rows,
        fault_point=settings.stream_fault_point,
        fault_after_batches=settings.stream_fault_after_batches,
    )
    return StreamWorker(
        group,
        consumers,
        WindowStateStore(state_file),
        WindowStateStore(state_file),
        deps.online_store,
        LakeSink(deps.lake, group.definition),
        StreamMetrics.create(deps.registry),
        config,
    )


def run_worker(deps: Dependencies, group_name: str, *, idle_seconds: float | None, metrics_port: int) -> dict[str, Any]:
    """Run until SIGTERM/SIGINT (or idle); the metrics endpoint lives as long as the worker."""
    worker = build_worker(deps, group_name)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server = None
    if metrics_port:
        ready = worker.ready

        def readiness() -> str | None:
            return None if ready.is_set() else "recovering the outbox of the previous run"

        server = MetricsServer(deps.registry, readiness, "127.0.0.1", metrics_port).start()
    try:
        return worker.run(stop, idle_seconds=idle_seconds)
    finally:
        worker.close()
        if server is not None:
            server.stop()
