"""The event log port (topics of JSON events) with an embedded file log and a Kafka adapter."""

from __future__ import annotations

from strata_kernel.errors import ConfigurationError
from strata_kernel.eventlog.port import Event, EventConsumer, EventLog
from strata_kernel.settings import StrataSettings


def open_event_log(settings: StrataSettings) -> EventLog:
    """Pick the adapter named by ``settings.event_log`` ("local" or "kafka")."""
    if settings.event_log == "local":
        from strata_kernel.eventlog.local import LocalEventLog

        return LocalEventLog(settings.path("eventlog", ".keep").parent)
    if settings.event_log == "kafka":
        from strata_kernel.eventlog.kafka import KafkaEventLog

        return KafkaEventLog(settings.kafka_bootstrap_servers)
    raise ConfigurationError(f"unknown event_log {settings.event_log!r}; expected 'local' or 'kafka'")


__all__ = ["Event", "EventConsumer", "EventLog", "open_event_log"]
