"""The fields of the request bodies data_processing refused, as the schema monitors' Prometheus series.

Yokoyama's runtime-flow monitor watches the request schema of data processing. The sidecars count the fields of
the events they read; the requests are refused here, so they are counted here, under the same agreed series
(``strata_monitor_schema_violations_total{flow, model, version, field, kind}``) and the same alert
(StrataSchemaChanged names the field). ``component`` and ``layer`` are not exported: Prometheus attaches them
from the scrape target (monitoring/prometheus/prometheus.yml), as for every metric of a service. Only a refused
request pays: its body is re-read field by field to name every fault, accepted requests are never looked at again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter

from strata_kernel.contracts.schema_check import BoundedFieldNames, Violation

FLOW = "runtime"


class RefusedRequestFields:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._violations = Counter(
            "strata_monitor_schema_violations",
            "Fields of refused request bodies that broke the published contract (kind: unknown, missing, retyped).",
            ["flow", "model", "version", "field", "kind"],
            registry=registry,
        )
        self._bounded: dict[str, BoundedFieldNames] = {}
        self._lock = threading.Lock()

    def record(self, model: str, violations: Iterable[Violation]) -> None:
        """Counts each faulty field once per refused request (a batch of 1000 alike instances is one request)."""
        with self._lock:
            bounded = self._bounded.setdefault(model, BoundedFieldNames())
            for violation in set(bounded(set(violations))):
                self._violations.labels(FLOW, model, "", violation.field, violation.kind.value).inc()
