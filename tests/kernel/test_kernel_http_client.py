"""strata_kernel.http.ServiceClient against httpx.MockTransport (the transport is the port)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx
import pytest

from strata_kernel.errors import BadRequest, NotFound, StrataError, Unavailable, UpstreamError
from strata_kernel.http import ServiceClient
from strata_kernel.logs import REQUEST_ID_HEADER, request_id_var


def _client(handler: object, retries: int = 3) -> ServiceClient:
    transport = httpx.MockTransport(handler)  # type: ignore[arg-type]
    return ServiceClient("inference_engine", "http://inference", retries=retries, transport=transport)


def test_json_answer_is_returned_and_request_id_forwarded() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"predictions": [12.5]})

    token = request_id_var.set("req-7")
    try:
        answer = _client(handler).post("/v1/models/etd/predict", {"instances": [{}]})
    finally:
        request_id_var.reset(token)

    assert answer == {"predictions": [12.5]}
    assert seen[0].headers[REQUEST_ID_HEADER] == "req-7"


@pytest.mark.parametrize(("status", "error_type"), [(400, BadRequest), (404, NotFound), (503, Unavailable)])
def test_upstream_error_is_reraised_with_its_status_and_message(status: int, error_type: type[StrataError]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": {"code": "model_missing", "message": "no model etd"}})

    with pytest.raises(error_type) as caught:
        _client(handler).get("/v1/models/etd")

    assert (caught.value.status, caught.value.message, caught.value.code) == (status, "no model etd", "model_missing")


def test_non_json_error_page_is_an_upstream_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>Bad Gateway</html>")

    with pytest.raises(UpstreamError, match=r"inference_engine returned non-JSON \(HTTP 502\)"):
        _client(handler).get("/v1/models")


def test_transport_error_becomes_unavailable_after_bounded_retries() -> None:
    attempts: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        raise httpx.ConnectError("[Errno 111] Connection refused")

    with pytest.raises(Unavailable) as caught:
        _client(handler, retries=3).get("/v1/models")

    assert caught.value.status == 503
    assert caught.value.code == "inference_engine_unavailable"
    assert caught.value.message == "inference_engine unavailable: connection refused"
    assert "\n" not in caught.value.message
    assert len(attempts) == 1 + 3  # the first try, then `retries` more


def test_transient_transport_error_is_retried_transparently() -> None:
    attempts: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        if len(attempts) == 1:
            raise httpx.ReadTimeout("slow")
        return httpx.Response(200, json={"ok": True})

    assert _client(handler).get("/v1/models") == {"ok": True}
    assert len(attempts) == 2


def test_query_strings_are_written_as_httpx_writes_them() -> None:
    """The connection path builds its own query string: the same bytes as httpx, for every kind of value relayed."""
    from strata_kernel.http import _query

    cases: list[dict[str, Any]] = [
        {"q": "pizza & pasta", "page": 2},
        {"flag": True, "other": False, "none": None},
        {"node": ["DE", "DE/berlin"], "x": ("a", "b")},
        {"unicode": "crème brûlée", "slash": "a/b?c=d"},
        {"float": 0.5},
    ]
    for params in cases:
        assert _query(params) == str(httpx.QueryParams(params)), params


def test_the_kernel_client_does_not_import_httpx() -> None:
    """httpx's import also loads its own command line (click, rich, pygments): an operator command paid for it."""
    code = "import sys, strata_kernel.http; print('httpx' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
