"""Ports of the sidecar monitor, in domain terms."""

from __future__ import annotations

import abc
from collections import Counter
from typing import TYPE_CHECKING, Any

from monitoring.domain.probes import Probe, ProbeResult

if TYPE_CHECKING:  # the data monitors' types: a sidecar that only probes does not load their code
    from monitoring.domain.judgement import GroupInfo, SkewReading, WindowReading
    from monitoring.domain.lake import LakeFinding
    from monitoring.domain.schema import Violation
    from monitoring.domain.streams import StreamLabels
    from strata_kernel.profiles.reference import ReferenceProfile


class ProbeTarget(abc.ABC):
    """The monitored component, as the sidecar sees it."""

    @abc.abstractmethod
    def check(self, probe: Probe) -> ProbeResult:
        """Run one probe; never raises for an unreachable or failing component (that is a failed result)."""


class ProbeRecorder(abc.ABC):
    """Where probe outcomes go so that Prometheus (and people) can read them."""

    @abc.abstractmethod
    def record(self, result: ProbeResult) -> None:
        """Remember the latest outcome of ``result.probe``."""


class EventSource(abc.ABC):
    """A topic the watched component emits or reads, consumed by the sidecar in its own consumer group."""

    @abc.abstractmethod
    def poll(self, max_records: int) -> list[dict[str, Any]]:
        """The next events' payloads (empty when none is waiting)."""

    @abc.abstractmethod
    def commit(self) -> None:
        """Mark what was polled as read (a restarted sidecar resumes after it)."""


class ReferenceSource(abc.ABC):
    """Where a model version's reference profile comes from (the inference engine serves it)."""

    @abc.abstractmethod
    def reference(self, model: str, version: str) -> ReferenceProfile | None:
        """The version's reference, or None when it has none or cannot be reached now (asked again later)."""


class LakeChecks(abc.ABC):
    """The data lake's commit checks, as its API lists them (``GET /v1/commit-checks``)."""

    @abc.abstractmethod
    def after(self, check_id: int) -> list[LakeFinding]:
        """Findings recorded after ``check_id``, oldest first; raises on an unreachable lake."""

    @abc.abstractmethod
    def quarantined(self) -> list[LakeFinding]:
        """Findings of the commits in quarantine now."""


class FeatureGroups(abc.ABC):
    """What data_processing's feature directory says of a group: its lake table, entity and time column."""

    @abc.abstractmethod
    def group(self, name: str) -> GroupInfo | None:
        """The group, or None when there is no such group (a context or derived column)."""


class OfflineFeatures(abc.ABC):
    """Point-in-time reads of the offline feature tables (the lake's ``as-of``)."""

    @abc.abstractmethod
    def as_of(self, group: GroupInfo, wanted: list[tuple[str, str]], features: list[str]) -> list[dict[str, Any]]:
        """Per (entity id, ISO instant): ``{"id", "at", <feature>: value}`` of the latest row at or before it."""


class DataRecorder(abc.ABC):
    """Where the data monitors' findings go (Prometheus gauges and counters on the sidecar's /metrics)."""

    @abc.abstractmethod
    def schema_violations(self, stream: StreamLabels, violations: Counter[Violation]) -> None:
        """Count fields that broke their contract since the last call."""

    @abc.abstractmethod
    def window(self, stream: StreamLabels, reading: WindowReading, *, node: str | None = None) -> None:
        """The latest judgement of one window of one stream (of one node of a partitioned model)."""

    @abc.abstractmethod
    def skew(self, stream: StreamLabels, feature: str, reading: SkewReading) -> None:
        """The latest online-versus-offline comparison of one feature."""

    @abc.abstractmethod
    def lake_findings(self, findings: list[LakeFinding]) -> None:
        """Count new findings of the lake's commit checks."""

    @abc.abstractmethod
    def lake_quarantined(self, commits_per_table: dict[str, int]) -> None:
        """How many commits of each table are in quarantine now."""

    @abc.abstractmethod
    def forget(self, stream: StreamLabels) -> None:
        """The stream stopped (a version no longer served): drop its series."""
