"""Feature freshness, defined once for the directory page, its API and the ``feature_age_seconds`` metric.

A group is as fresh as the newest values a request can be served: the newest ``feature_time`` of its serving
online version (a batch load's snapshot, or the stream worker's last applied event). A group with nothing online
(not loaded yet, or offline-only) falls back to the newest nominal time its jobs committed to the lake. Before,
the page read the lake's commits (so a streaming group looked empty) and the metric the online store, through a
callback gauge that several gunicorn workers never wrote (0.0): they disagreed by hours.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from data_processing.directory.ports import FeatureDirectory
from data_processing.domain.registry_rules import Freshness, GroupEntry, freshness
from data_processing.ports import OnlineStore
from strata_kernel.metrics import metric_name


def local_now() -> datetime:
    """Feature times are the cities' local wall-clock times without a zone (docs/contracts.md): so is now."""
    return datetime.now()


class GroupFreshness:
    """``zone_of`` names the zone a group declares (``time_zone``): its feature times are that zone's wall clock, so
    its age is measured against now on that clock (a Chicago group read against UTC's clock looked 5-6 hours
    younger than it was). An undeclared group keeps the process's local clock."""

    def __init__(
        self,
        store: OnlineStore | None,
        clock: Callable[[], datetime] = local_now,
        zone_of: Callable[[str], str | None] = lambda group: None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._zone_of = zone_of

    def now(self, group: str) -> datetime:
        """Now, as a naive wall-clock time on ``group``'s clock."""
        now, zone = self._clock(), self._zone_of(group)
        if zone is None:
            return now if now.tzinfo is None else now.astimezone().replace(tzinfo=None)
        return (now if now.tzinfo is not None else now.astimezone()).astimezone(ZoneInfo(zone)).replace(tzinfo=None)

    def newest(self, group: str, offline: datetime | None = None) -> datetime | None:
        version = self._store.current_version(group) if self._store is not None else None
        online = version.newest_feature_time if version is not None else None
        return _naive(online) if online is not None else _naive(offline)

    def of(self, entry: GroupEntry) -> Freshness:
        return freshness(self.newest(entry.name, entry.newest_nominal_time), entry.freshness_slo, self.now(entry.name))

    def age_seconds(self, group: str) -> float | None:
        """Age of a served group the directory does not know (no SLO, no offline record): online only."""
        newest = self.newest(group)
        return None if newest is None else (self.now(group) - newest).total_seconds()


class FreshnessCollector(Collector):
    """``<component>_feature_age_seconds{group}`` of every registered group and every group the service serves,
    computed when scraped."""

    def __init__(
        self, component: str, directory: FeatureDirectory, fresh: GroupFreshness, served: tuple[str, ...] = ()
    ) -> None:
        self._name = metric_name(component, "feature_age_seconds")
        self._directory = directory
        self._fresh = fresh
        self._served = served

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            self._name,
            "Seconds since the newest feature_time a request can be served of a group (its serving online version; "
            "offline-only groups: the newest nominal time committed). NaN: no data yet.",
            labels=["group"],
        )
        try:
            entries = self._directory.groups()
        except Exception:  # a scrape never fails for the directory's sake: the readiness check says why
            entries = []
        ages = {entry.name: self._fresh.of(entry).age_seconds for entry in entries}
        for group in self._served:
            if group not in ages:
                ages[group] = self._fresh.age_seconds(group)
        for group, age in sorted(ages.items()):
            family.add_metric([group], math.nan if age is None else age)
        yield family


def _naive(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)
