"""HelpEngine over the inference_engine service's HTTP API (``POST /v1/models/{name}/predict``).

Sends ``{"instances": [{"token_ids": [...]}]}`` with the header ``X-Vectoriser: <VECTORISER_ID>`` so the engine
can refuse a model trained on other ids; expects ``{"model", "version", "predictions": [{"known", "article_id",
"confidence", "title", "url", "answer"}]}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from data_processing.domain.help import HelpAnswer
from data_processing.errors import InferenceEngineUnavailable
from data_processing.ports import HelpEngine
from data_processing.text import VECTORISER_ID
from strata_kernel.contracts import headers
from strata_kernel.contracts.auth import Credential
from strata_kernel.contracts.prediction import HelpPrediction, PredictRequest, PredictResponse
from strata_kernel.errors import BadRequest, Conflict, NotFound, Unavailable, UpstreamError
from strata_kernel.http import ServiceClient

_VECTORISER = {headers.VECTORISER: VECTORISER_ID}  # the engine refuses ids made by another vectoriser than its model's


class HttpHelpEngine(HelpEngine):
    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    @classmethod
    def connect(
        cls,
        base_url: str,
        *,
        timeout_seconds: float = 2.0,
        retries: int = 2,
        credential: Credential | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> HttpHelpEngine:
        client = ServiceClient(
            "inference_engine", base_url, timeout_seconds=timeout_seconds, retries=retries, credential=credential,
            transport=transport,
        )  # fmt: skip
        return cls(client)

    def answer(self, model: str, token_ids: Sequence[int]) -> HelpAnswer:
        try:
            request = PredictRequest([{"token_ids": list(token_ids)}])
            body = self._client.post(f"/v1/models/{model}/predict", request.to_wire(), _VECTORISER)
        except Unavailable as exc:  # transport failure, or the engine's 503 (e.g. a vectoriser mismatch)
            message = exc.message if exc.code == "inference_engine_unavailable" else f"inference engine: {exc.message}"
            raise InferenceEngineUnavailable(message) from exc
        except (NotFound, Conflict) as exc:
            # no such model, or one it refuses to serve for us: no answer can be had right now, so 503 not 404
            raise InferenceEngineUnavailable(f"inference engine cannot answer with {model!r}: {exc.message}") from exc
        except BadRequest as exc:  # the engine rejected our instance: our bug, not the asker's
            raise UpstreamError(f"inference engine refused the help instance: {exc.message}") from exc
        return _parse(body)

    def close(self) -> None:
        self._client.close()


def _parse(body: Any) -> HelpAnswer:
    try:
        response = PredictResponse.from_wire(body)
        first = HelpPrediction.from_wire(response.predictions[0])
    except BadRequest as exc:
        raise UpstreamError(f"inference engine answered without model/version/predictions[0]: {exc.message}") from exc
    return HelpAnswer(
        known=first.known,
        article_id=first.article_id,
        confidence=first.confidence,
        title=first.title,
        url=first.url,
        answer=first.answer,
        model=response.model,
        version=str(response.version),
    )
