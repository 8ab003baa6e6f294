"""InferenceEngine over the inference_engine service's HTTP API (``POST /v1/models/{name}/predict``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from data_processing.domain.online import FeatureValue, Prediction
from data_processing.errors import InferenceEngineUnavailable
from data_processing.ports import InferenceEngine
from strata_kernel.errors import NotFound, Unavailable, UpstreamError
from strata_kernel.http import ServiceClient

#: keys the engine's sticky canary split (docs/contracts.md "Routing in the inference engine")
ROUTING_KEY_HEADER = "X-Routing-Key"


class HttpInferenceEngine(InferenceEngine):
    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def predict(
        self, model: str, instances: Sequence[Mapping[str, FeatureValue]], routing_key: str | None = None
    ) -> list[Prediction]:
        headers = {ROUTING_KEY_HEADER: routing_key} if routing_key is not None else None
        try:
            answer = self._client.post(f"/v1/models/{model}/predict", {"instances": list(instances)}, headers)
        except Unavailable as exc:  # transport failure (kernel message names the service) or an upstream 503
            message = exc.message if exc.code == "inference_engine_unavailable" else f"inference engine: {exc.message}"
            raise InferenceEngineUnavailable(message) from exc
        except NotFound as exc:
            # from our caller's point of view no estimate can be had right now, so 503 rather than 404
            raise InferenceEngineUnavailable(f"inference engine has no model {model!r}: {exc.message}") from exc
        try:
            version = str(answer["version"])
            nodes = answer.get("nodes") or [None] * len(answer["predictions"])
            return [
                Prediction(str(answer["model"]), version, float(p), node)
                for p, node in zip(answer["predictions"], nodes, strict=True)
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamError(f"inference engine answered without model/version/predictions: {exc}") from exc

    def close(self) -> None:
        self._client.close()
