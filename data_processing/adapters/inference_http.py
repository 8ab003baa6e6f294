"""InferenceEngine over the inference_engine service's HTTP API (``POST /v1/models/{name}/predict``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from data_processing.domain.online import FeatureValue, Prediction
from data_processing.errors import InferenceEngineUnavailable
from data_processing.ports import InferenceEngine
from strata_kernel.contracts import headers
from strata_kernel.contracts.prediction import PredictRequest, PredictResponse
from strata_kernel.errors import BadRequest, NotFound, Unavailable, UpstreamError
from strata_kernel.http import ServiceClient


class HttpInferenceEngine(InferenceEngine):
    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def predict(
        self, model: str, instances: Sequence[Mapping[str, FeatureValue]], routing_key: str | None = None
    ) -> list[Prediction]:
        # the routing key keys the engine's sticky canary split
        routing = {headers.ROUTING_KEY: routing_key} if routing_key is not None else None
        request = PredictRequest([dict(instance) for instance in instances])
        try:
            answer = self._client.post(f"/v1/models/{model}/predict", request.to_wire(), routing)
        except Unavailable as exc:  # transport failure (kernel message names the service) or an upstream 503
            message = exc.message if exc.code == "inference_engine_unavailable" else f"inference engine: {exc.message}"
            raise InferenceEngineUnavailable(message) from exc
        except NotFound as exc:
            # from our caller's point of view no estimate can be had right now, so 503 rather than 404
            raise InferenceEngineUnavailable(f"inference engine has no model {model!r}: {exc.message}") from exc
        try:
            response = PredictResponse.from_wire(answer)
            values = response.numbers()
        except BadRequest as exc:
            raise UpstreamError(f"inference engine answered without model/version/predictions: {exc.message}") from exc
        nodes: list[str | None] = list(response.nodes) if response.nodes is not None else [None] * len(values)
        return [
            Prediction(response.model, str(response.version), value, node, response.route)
            for value, node in zip(values, nodes, strict=True)
        ]

    def close(self) -> None:
        self._client.close()
