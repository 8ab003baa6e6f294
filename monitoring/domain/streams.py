"""The labels every data-monitor series carries (docs/monitoring.md; agreed names in the alert rules)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Flow(StrEnum):
    """Yokoyama's data flows: the ML runtime flow, the development (training data) flow, the business flow."""

    RUNTIME = "runtime"
    DEVELOPMENT = "development"
    BUSINESS = "business"


@dataclass(frozen=True, slots=True)
class StreamLabels:
    """Who is watched: the deployable (``component``, also its ``layer``), the flow, and the model version."""

    component: str
    flow: Flow
    model: str = ""
    version: str = ""

    @property
    def layer(self) -> str:
        return self.component

    def values(self) -> tuple[str, str, str, str, str]:
        return (self.component, self.layer, self.flow.value, self.model, self.version)


#: the label names of :meth:`StreamLabels.values`, in order
STREAM_LABELS = ("component", "layer", "flow", "model", "version")
