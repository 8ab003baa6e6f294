"""The data monitors' findings as Prometheus series (the agreed names: docs/monitoring.md).

Every series carries ``component``, ``layer``, ``flow``; model series ``model`` and ``version``; feature series
``feature``; schema series ``field``. A score that could not be computed (no values) is not exported rather than
exported as 0, so a dashboard shows a gap, not a fake "no drift".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Gauge
from prometheus_client import Counter as PromCounter

from monitoring.domain.aspects import DRIFT, MISSING
from monitoring.domain.streams import STREAM_LABELS, StreamLabels
from monitoring.ports import DataRecorder

if TYPE_CHECKING:  # types only: the lake's sidecar records its findings without the windows' and contracts' code
    from collections import Counter

    from monitoring.domain.judgement import ColumnReading, SkewReading, WindowReading
    from monitoring.domain.lake import LakeFinding
    from monitoring.domain.schema import Violation

_FEATURE = [*STREAM_LABELS, "feature", "window"]
_WINDOW = [*STREAM_LABELS, "window"]
_NODE = [*STREAM_LABELS, "node", "window"]
_LAKE = ("data_lake", "data_lake", "development")


class PrometheusDataRecorder(DataRecorder):
    def __init__(self, registry: CollectorRegistry, *, aspects: frozenset[str]) -> None:
        self._aspects = aspects

        def gauge(name: str, text: str, labels: list[str]) -> Gauge:
            return Gauge(f"strata_monitor_{name}", text, labels, registry=registry)

        self.violations = PromCounter(
            "strata_monitor_schema_violations",
            "Fields that broke their published contract (kind: unknown, missing, retyped).",
            [*STREAM_LABELS, "field", "kind"],
            registry=registry,
        )
        self.samples = gauge("window_samples", "Rows in the window.", _WINDOW)
        self.judged = gauge("window_judged", "1 when the window and its reference hold enough rows.", _WINDOW)
        self.missing = gauge("missing_rate", "Share of the window's rows missing the feature.", _FEATURE)
        self.missing_high = gauge(
            "missing_values_high", "1 when the missing rate exceeds the reference's by the margin.", _FEATURE
        )
        self.out_of_range = gauge(
            "out_of_range_rate", "Share of the rows whose value lies outside the training [min, max].", _FEATURE
        )
        self.drift_score = gauge(
            "feature_drift_score", "Normed Wasserstein (numeric) or Jensen-Shannon (categorical) distance.", _FEATURE
        )
        self.drift = gauge("feature_drift_detected", "1 when the test says drift (min sample met).", _FEATURE)
        self.prediction_score = gauge("prediction_drift_score", "Distance of the predictions to the reference's.",
                                      _WINDOW)  # fmt: skip
        self.prediction = gauge("prediction_drift_detected", "1 when the predictions drifted.", _WINDOW)
        self.node_score = gauge("node_prediction_drift_score", "Distance of one node's predictions to its "
                                "reference.", _NODE)  # fmt: skip
        self.node = gauge("node_prediction_drift_detected", "1 when a node's predictions drifted.", _NODE)
        skew = [*STREAM_LABELS, "feature"]
        self.skew_score = gauge("skew_score", "Normed Wasserstein distance of served vs offline values.", skew)
        self.skew_detected = gauge("skew_detected", "1 when served values differ from offline ones (min pairs).", skew)
        self.skew_pairs = gauge("skew_pairs", "Served values compared with their offline value.", skew)
        self.skew_mismatch = gauge("skew_mismatch_rate", "Share of compared pairs whose values differ.", skew)
        lake = ["component", "layer", "flow", "table"]
        self.lake_anomalies = PromCounter(
            "strata_monitor_lake_commit_anomalies",
            "Findings of the lake's commit checks (reason: missing_column, added_column, row_count, missing_rate, "
            "new_categories).",
            [*lake, "field", "reason"],
            registry=registry,
        )
        self.lake_quarantine = gauge("lake_quarantined_commits", "Commits of the table in quarantine now.", lake)
        self._quarantined_tables: set[str] = set()

    def schema_violations(self, stream: StreamLabels, violations: Counter[Violation]) -> None:
        for violation, count in violations.items():
            self.violations.labels(*stream.values(), violation.field, violation.kind.value).inc(count)

    def window(self, stream: StreamLabels, reading: WindowReading, *, node: str | None = None) -> None:
        labels = stream.values()
        if node is not None:
            if reading.prediction is not None and reading.prediction.drift.score is not None:
                self.node_score.labels(*labels, node, reading.window).set(reading.prediction.drift.score)
                self.node.labels(*labels, node, reading.window).set(int(reading.prediction.drift.detected))
            return
        self.samples.labels(*labels, reading.window).set(reading.samples)
        self.judged.labels(*labels, reading.window).set(int(reading.judged))
        for column in reading.features:
            self._column(labels, column, reading.window)
        if DRIFT in self._aspects and reading.prediction is not None and reading.prediction.drift.score is not None:
            self.prediction_score.labels(*labels, reading.window).set(reading.prediction.drift.score)
            self.prediction.labels(*labels, reading.window).set(int(reading.prediction.drift.detected))

    def _column(self, labels: tuple[str, ...], column: ColumnReading, window: str) -> None:
        names = (*labels, column.column, window)
        if MISSING in self._aspects:
            self.missing.labels(*names).set(column.missing_rate)
            self.missing_high.labels(*names).set(int(column.missing_high))
            self.out_of_range.labels(*names).set(column.out_of_range_rate)
        if DRIFT in self._aspects and column.drift.score is not None:
            self.drift_score.labels(*names).set(column.drift.score)
            self.drift.labels(*names).set(int(column.drift.detected))

    def skew(self, stream: StreamLabels, feature: str, reading: SkewReading) -> None:
        labels = (*stream.values(), feature)
        self.skew_pairs.labels(*labels).set(reading.pairs)
        self.skew_mismatch.labels(*labels).set(reading.mismatch_rate)
        if reading.drift.score is not None:
            self.skew_score.labels(*labels).set(reading.drift.score)
            self.skew_detected.labels(*labels).set(int(reading.drift.detected))

    def lake_findings(self, findings: list[LakeFinding]) -> None:
        for finding in findings:
            self.lake_anomalies.labels(*_LAKE, finding.table, finding.field, finding.reason).inc()

    def lake_quarantined(self, commits_per_table: dict[str, int]) -> None:
        for table in self._quarantined_tables | set(commits_per_table):  # a released table goes back to 0
            self.lake_quarantine.labels(*_LAKE, table).set(commits_per_table.get(table, 0))
        self._quarantined_tables |= set(commits_per_table)

    def forget(self, stream: StreamLabels) -> None:
        wanted = dict(zip(("component", "layer", "flow", "model", "version"), stream.values(), strict=True))
        for metric in (self.samples, self.judged, self.missing, self.missing_high, self.out_of_range,
                       self.drift_score, self.drift, self.prediction_score, self.prediction, self.node_score,
                       self.node):  # fmt: skip
            for sample_labels in _label_sets(metric):
                if all(sample_labels.get(k) == v for k, v in wanted.items()):
                    metric.remove(*[sample_labels[name] for name in metric._labelnames])


def _label_sets(metric: Gauge) -> list[dict[str, str]]:
    return [dict(sample.labels) for family in metric.collect() for sample in family.samples]
