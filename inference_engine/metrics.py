"""Prometheus metrics of predictions (names ``strata_inference_engine_*``); the registry is passed in."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

from strata_kernel.metrics import LATENCY_BUCKETS, metric_name

COMPONENT = "inference_engine"


@dataclass(frozen=True)
class PredictionMetrics:
    predictions: Counter
    latency: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> PredictionMetrics:
        return cls(
            predictions=Counter(
                metric_name(COMPONENT, "predictions_total"),
                "Instances scored, by model and version.",
                ["model", "version"],
                registry=registry,
            ),
            latency=Histogram(
                metric_name(COMPONENT, "predict_seconds"),
                "Time spent in the model runtime per request.",
                ["model"],
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
        )

    def observe(self, model: str, version: int, count: int, seconds: float) -> None:
        self.predictions.labels(model, str(version)).inc(count)
        self.latency.labels(model).observe(seconds)
