"""What serving reports to monitoring (inference_engine.metrics.PredictionMetrics implements it)."""

from __future__ import annotations


class ServingObserver:
    """This base reports nothing."""

    def predicted(self, model: str, version: int, route: str, count: int, seconds: float) -> None:
        """``count`` instances scored by ``version`` on ``route`` in ``seconds``."""

    def shadow_failed(self, model: str) -> None:
        """The candidate failed to score a shadow copy."""

    def shadow_dropped(self, model: str) -> None:
        """A shadow copy was skipped: the shadow executor's queue was full."""

    def routing_applied(self, model: str, revision: int) -> None:
        """``revision`` of the model's routing now serves."""
