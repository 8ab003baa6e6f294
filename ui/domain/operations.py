"""The key panels of the operators' /operations page: a fixed list of PromQL queries, drawn from Prometheus.

The browser names a panel and a time range, never a query: the UI is not an open PromQL proxy. The same
questions, in more detail, are the Grafana dashboards in ``monitoring/grafana/dashboards/`` (one per flow);
tests/monitoring/test_dashboards.py checks every query here and there with promtool and against the metric
names the services, sidecars and rules export.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from strata_kernel.contracts.topics import ORDER_PLACED

#: every per-component request series (strata_kernel.metrics.HttpMetrics), whatever the component
_REQUESTS = '{__name__=~"strata_.+_http_requests_total", job="strata-services"}'
_DURATION = '{__name__=~"strata_.+_http_request_duration_seconds_bucket", job="strata-services"}'
_READY = '{__name__=~"strata_.+_ready", job="strata-services"}'
_REFUSED = '{__name__=~"strata_.+_http_refused_total", job="strata-services"}'


@dataclass(frozen=True)
class Panel:
    id: str
    title: str
    #: how values read: "reqps" (per second), "ratio" (0..1, shown as %), "seconds", "score", "bool"
    unit: str
    query: str
    #: the label that names each line (its legend)
    legend: str
    #: what an on-call person reads from it
    help: str
    flow: str


PANELS: tuple[Panel, ...] = (
    Panel(
        "requests",
        "Requests per second",
        "reqps",
        f"sum by (component) (rate({_REQUESTS}[1m]))",
        "component",
        "Load on every layer; a drop to zero on one line is a component gone.",
        "all",
    ),
    Panel(
        "errors",
        "Share of 5xx answers",
        "ratio",
        # "or ... * 0": a component with requests and no 5xx draws 0%, not nothing
        f'(sum by (component) (rate({_REQUESTS[:-1]}, status=~"5.."}}[1m]))'
        f" or sum by (component) (rate({_REQUESTS}[1m])) * 0)"
        f" / sum by (component) (rate({_REQUESTS}[1m]))",
        "component",
        "Over 5% for 5 minutes pages (HighErrorRate); the lowest component on the quote path is the cause.",
        "all",
    ),
    Panel(
        "latency",
        "p99 latency",
        "seconds",
        f"histogram_quantile(0.99, sum by (component, le) (rate({_DURATION}[1m])))",
        "component",
        "Against each component's budget (business_logic 50 ms for a quote).",
        "all",
    ),
    Panel(
        "ready",
        "Ready",
        "bool",
        f"max by (component) ({_READY})",
        "component",
        "1 when the component answers /readyz; 0 says a dependency it needs is missing.",
        "all",
    ),
    Panel(
        "feature_drift",
        "Feature drift (1 h window)",
        "score",
        'max by (model, feature) (strata_monitor_feature_drift_score{window="1h"})',
        "feature",
        "Distance of the served inputs from the version's training profile; StrataFeatureDrift names the feature.",
        "runtime",
    ),
    Panel(
        "missing",
        "Missing values (5 min window)",
        "ratio",
        'max by (model, feature) (strata_monitor_missing_rate{window="5m"})',
        "feature",
        "Share of requests where the feature was missing; a feature group that stops updating shows here first.",
        "runtime",
    ),
    Panel(
        "refused",
        "Refused calls (illegal access)",
        "reqps",
        f"sum by (component, reason) (rate({_REFUSED}[1m]))",
        "component",
        "Calls without an accepted credential (401/403); StrataIllegalAccessAttempts fires on a burst.",
        "business",
    ),
    Panel(
        "quotes",
        "ETD quotes by outcome",
        "reqps",
        "sum by (outcome) (rate(strata_business_logic_etd_quotes_total[1m]))",
        "outcome",
        "Quotes answered (ok) and refused or failed; a rise of unavailable is the ML part behind it.",
        "business",
    ),
    Panel(
        "quote_orders",
        "ETD quotes that became orders",
        "ratio",
        f'sum(increase(strata_data_collection_events_total{{topic="{ORDER_PLACED}", outcome="collected"}}[1h]))'
        ' / (sum(increase(strata_business_logic_etd_quotes_total{outcome="ok"}[1h])) > 0)',
        "share",
        "Orders collected per quote answered over the last hour: the business value of the estimate (an order"
        " batch the collector got again after a refused commit counts again).",
        "business",
    ),
    Panel(
        "helpful",
        "Chatbot answers found helpful",
        "ratio",
        'sum(increase(strata_business_logic_help_feedback_total{helpful="true"}[1h]))'
        " / sum(increase(strata_business_logic_help_feedback_total[1h]))",
        "helpful",
        "Share of the chatbot's rated answers the customer found helpful, over the last hour.",
        "business",
    ),
)

#: the time ranges the page offers, in seconds
RANGES: dict[str, int] = {"15m": 900, "1h": 3600, "6h": 21600, "1d": 86400}
#: points per line at most (Prometheus caps a range query at 11,000)
MAX_POINTS = 240


def panel(panel_id: str) -> Panel | None:
    return next((p for p in PANELS if p.id == panel_id), None)


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    step: float


def window(range_name: str, now: float) -> Window | None:
    """The query_range window ending now; None for a range the page does not offer."""
    seconds = RANGES.get(range_name)
    if seconds is None:
        return None
    step = max(1.0, math.ceil(seconds / MAX_POINTS))
    end = math.floor(now)
    return Window(start=end - seconds, end=end, step=step)
