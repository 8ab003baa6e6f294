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
from strata_kernel.errors import BadRequest, Conflict, NotFound, Unavailable, UpstreamError
from strata_kernel.http import ServiceClient

VECTORISER_HEADER = "X-Vectoriser"
_VECTORISER = {VECTORISER_HEADER: VECTORISER_ID}  # the engine refuses ids made by another vectoriser than its model's


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
        transport: httpx.BaseTransport | None = None,
    ) -> HttpHelpEngine:
        client = ServiceClient(
            "inference_engine", base_url, timeout_seconds=timeout_seconds, retries=retries, transport=transport
        )
        return cls(client)

    def answer(self, model: str, token_ids: Sequence[int]) -> HelpAnswer:
        try:
            body = self._client.post(
                f"/v1/models/{model}/predict", {"instances": [{"token_ids": list(token_ids)}]}, _VECTORISER
            )
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
        first = body["predictions"][0]
        known = first["known"]
        if not isinstance(known, bool):
            raise TypeError(f"known is {type(known).__name__}, not bool")
        article_id = first.get("article_id")
        return HelpAnswer(
            known=known,
            article_id=None if article_id is None else str(article_id),
            confidence=float(first["confidence"]),
            # below the threshold there is no answer to show, whatever the engine put there
            title=_optional_text(first.get("title")) if known else None,
            url=_optional_text(first.get("url")) if known else None,
            answer=_optional_text(first.get("answer")) if known else None,
            model=str(body["model"]),
            version=str(body["version"]),
        )
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise UpstreamError(f"inference engine answered without model/version/predictions[0]: {exc!r}") from exc


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)
