"""Prometheus metrics of comparative_eval (``strata_comparative_eval_*``); the registry is passed in."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from comparative_eval.domain.deployment import DeploymentRecord
from comparative_eval.domain.events import ROUTES
from comparative_eval.domain.verdicts import VERDICTS, Verdict
from strata_kernel.metrics import metric_name

COMPONENT = "comparative_eval"
#: the per-arm figures of a verdict exported as strata_comparative_eval_arm_quality{metric}
ARM_QUALITY = ("error_rate", "latency_p99_ms", "mae", "helpful_rate")


@dataclass(frozen=True)
class EvalMetrics:
    candidate_weight: Gauge
    verdicts: Counter
    rollbacks: Counter
    changes: Counter
    push_failures: Counter
    push_seconds: Histogram
    joined_samples: Counter
    events: Counter
    arm_quality: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> EvalMetrics:
        def name(what: str) -> str:
            return metric_name(COMPONENT, what)

        metrics = cls(
            candidate_weight=Gauge(
                name("candidate_weight_percent"),
                "Share of a model's traffic the candidate answers (canary weight; 0 in shadow and full).",
                ["model"],
                registry=registry,
                multiprocess_mode="livemostrecent",
            ),
            verdicts=Counter(
                name("verdicts_total"), "Analysis verdicts by outcome.", ["model", "verdict"], registry=registry
            ),
            rollbacks=Counter(
                name("rollbacks_total"),
                "Rollbacks by actor (operator | analysis).",
                ["model", "actor"],
                registry=registry,
            ),
            changes=Counter(
                name("changes_total"), "Deployment records appended, by action.", ["model", "action"], registry=registry
            ),
            push_failures=Counter(
                name("routing_push_failures_total"),
                "Routing pushes the engine did not take (its poller converges later).",
                ["model"],
                registry=registry,
            ),
            push_seconds=Histogram(
                name("decision_to_push_seconds"),
                "From the decision of a change (record created_at) to the engine acknowledging its routing.",
                ["action"],
                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
                registry=registry,
            ),
            joined_samples=Counter(
                name("joined_samples_total"),
                "Predictions joined with their outcome (ETD truth or chatbot feedback), by route.",
                ["route"],
                registry=registry,
            ),
            events=Counter(
                name("events_total"),
                "Events consumed by topic and outcome (stored | duplicate: held already or delivered again | invalid "
                "| skipped).",
                ["topic", "outcome"],
                registry=registry,
            ),
            arm_quality=Gauge(
                name("arm_quality"),
                "Quality of each arm (stable, candidate) at the last analysis: error_rate, latency_p99_ms, mae, "
                "helpful_rate (the figures its verdict judged).",
                ["model", "arm", "metric"],
                registry=registry,
                multiprocess_mode="livemostrecent",
            ),
        )
        for route in ROUTES:
            metrics.joined_samples.labels(route)
        return metrics

    def observe_record(self, record: DeploymentRecord) -> None:
        self.candidate_weight.labels(record.model).set(record.weight if record.mode == "canary" else 0)

    def observe_verdict(self, verdict: Verdict) -> None:
        if verdict.verdict in VERDICTS:
            self.verdicts.labels(verdict.model, verdict.verdict).inc()
        for arm, summary in verdict.metrics.items():
            for metric in ARM_QUALITY:
                value = summary.get(metric)
                if isinstance(value, int | float):
                    self.arm_quality.labels(verdict.model, arm, metric).set(value)
