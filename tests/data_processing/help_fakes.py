"""Fakes of the chatbot's inference engine: one at the HelpEngine port, one as a real HTTP server."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from werkzeug.wrappers import Request, Response

from data_processing.domain.help import HelpAnswer
from data_processing.errors import InferenceEngineUnavailable
from data_processing.ports import HelpEngine

KNOWN = {
    "known": True,
    "article_id": "cancel-order",
    "confidence": 0.91,
    "title": "Cancel an order",
    "url": "http://help.test/articles/cancel-order.html",
    "answer": "You can cancel until the restaurant accepts it.",
}


class FakeHelpEngine(HelpEngine):
    """Answers a fixed prediction and remembers what it was asked."""

    def __init__(self, prediction: dict[str, Any] | None = None, *, down: bool = False) -> None:
        self.prediction = prediction if prediction is not None else KNOWN
        self.down = down
        self.calls: list[tuple[str, list[int]]] = []

    def answer(self, model: str, token_ids: Sequence[int]) -> HelpAnswer:
        if self.down:
            raise InferenceEngineUnavailable("inference_engine unavailable: connection refused")
        self.calls.append((model, list(token_ids)))
        return HelpAnswer(**self.prediction, model=model, version="2")


class HttpFakeEngine:
    """The inference engine's predict route for ``helpbot`` as a WSGI app, trained on ``vectoriser``: it refuses
    other vectorisers with a 503 as the real engine does, and records each request's headers and body."""

    def __init__(self, vectoriser: str, prediction: dict[str, Any] | None = None) -> None:
        self.vectoriser = vectoriser
        self.prediction = prediction if prediction is not None else KNOWN
        self.requests: list[tuple[str, dict[str, str], bytes]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data()
        self.requests.append((request.path, dict(request.headers), body))
        if request.path != "/v1/models/helpbot/predict":
            response = _json(404, {"error": {"code": "not_found", "message": "model not loaded"}})
        elif request.headers.get("X-Vectoriser") != self.vectoriser:
            message = f"helpbot was trained on vectoriser {self.vectoriser}, not {request.headers.get('X-Vectoriser')}"
            response = _json(503, {"error": {"code": "vectoriser_mismatch", "message": message}})
        else:
            instances = json.loads(body)["instances"]
            response = _json(
                200, {"model": "helpbot", "version": "7", "predictions": [self.prediction] * len(instances)}
            )
        return response(environ, start_response)


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")
