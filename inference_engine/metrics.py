"""Prometheus metrics of predictions and routing (names ``strata_inference_engine_*``); the registry is passed in."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from inference_engine.serving.observer import ServingObserver
from strata_kernel.metrics import LATENCY_BUCKETS, metric_name

COMPONENT = "inference_engine"


@dataclass(frozen=True)
class PredictionMetrics(ServingObserver):
    predictions: Counter
    latency: Histogram
    routed: Counter
    routing_revision: Gauge
    shadow_errors: Counter
    shadow_skipped: Counter
    log_dropped: Counter
    log_failed: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> PredictionMetrics:
        def counter(what: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(metric_name(COMPONENT, what), doc, list(labels), registry=registry)

        return cls(
            predictions=counter("predictions_total", "Instances scored, by model and version.", ("model", "version")),
            latency=Histogram(
                metric_name(COMPONENT, "predict_seconds"),
                "Time spent in the model runtime per request.",
                ["model"],
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            routed=counter(
                "route_predictions_total",
                "Instances scored by model, version and route (stable, canary, shadow; version = an explicit "
                "version route).",
                ("model", "version", "route"),
            ),
            routing_revision=Gauge(
                metric_name(COMPONENT, "routing_revision"),
                "Revision of the routing record applied per model (0 = serving the alias, no record).",
                ["model"],
                registry=registry,
                multiprocess_mode="livemin",  # the lowest worker shows a worker that has not converged
            ),
            shadow_errors=counter("shadow_errors_total", "Shadow scorings the candidate failed.", ("model",)),
            shadow_skipped=counter(
                "shadow_skipped_total", "Shadow scorings skipped because the shadow queue was full.", ("model",)
            ),
            log_dropped=counter(
                "prediction_log_dropped_total", "Prediction events dropped because the log's queue was full."
            ),
            log_failed=counter(
                "prediction_log_failed_total", "Prediction events lost because publishing to the event log failed."
            ),
        )

    #: (model, version, route) -> the labelled children: labels() takes a lock and builds a key on every call,
    #: which costs more than the rest of the bookkeeping of a prediction
    _children: dict[tuple[str, int, str], tuple[Counter, Histogram, Counter]] = field(default_factory=dict)

    def observe(self, model: str, version: int, count: int, seconds: float) -> None:
        self.predictions.labels(model, str(version)).inc(count)
        self.latency.labels(model).observe(seconds)

    def predicted(self, model: str, version: int, route: str, count: int, seconds: float) -> None:
        children = self._children.get((model, version, route))
        if children is None:
            children = (self.predictions.labels(model, str(version)), self.latency.labels(model),
                        self.routed.labels(model, str(version), route))  # fmt: skip
            self._children[(model, version, route)] = children
        predictions, latency, routed = children
        if route != "shadow":  # the shadow copy is not part of the answer's work
            predictions.inc(count)
            latency.observe(seconds)
        routed.inc(count)

    def shadow_failed(self, model: str) -> None:
        self.shadow_errors.labels(model).inc()

    def shadow_dropped(self, model: str) -> None:
        self.shadow_skipped.labels(model).inc()

    def routing_applied(self, model: str, revision: int) -> None:
        self.routing_revision.labels(model).set(revision)

    def prediction_events_dropped(self, count: int) -> None:
        self.log_dropped.inc(count)

    def prediction_events_failed(self, count: int) -> None:
        self.log_failed.inc(count)
