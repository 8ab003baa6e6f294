"""The components a sidecar can watch, and where (docs/contracts.md gives the service ports)."""

from __future__ import annotations

#: Default service port of each deployable (docs/contracts.md, "Default ports").
SERVICE_PORTS: dict[str, int] = {
    "ui": 8000,
    "business_logic": 8001,
    "data_processing": 8002,
    "inference_engine": 8003,
    "data_lake": 8004,
    "data_collection": 8005,
    "comparative_eval": 8006,
    # the demo help centre (static pages served by data_collection serve-helpcentre)
    "help_centre": 8007,
    # data_processing's near-real-time feature worker: /healthz /readyz /metrics only (its sidecar: 9112)
    "data_processing_stream": 8012,
}

_SIDECAR_PORT_OFFSET = 1100  # service 800N -> sidecar 910N: easy to remember, never collides


def check_component(component: str) -> str:
    if component not in SERVICE_PORTS:
        known = ", ".join(SERVICE_PORTS)
        raise ValueError(f"unknown component {component!r}; expected one of: {known}")
    return component


def sidecar_port(component: str) -> int:
    """The port a component's sidecar listens on by default: 9100 for ui, 9101 for business_logic, ..."""
    return SERVICE_PORTS[check_component(component)] + _SIDECAR_PORT_OFFSET


def local_target_url(component: str) -> str:
    """The component as its sidecar reaches it: over loopback, on the same host."""
    return f"http://127.0.0.1:{SERVICE_PORTS[check_component(component)]}"
