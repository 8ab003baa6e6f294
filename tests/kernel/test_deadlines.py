"""One deadline per request chain: the service takes it from X-Deadline-Ms, every call fits in it and passes on
what is left, and below the top hop a timed-out call is not retried."""

from __future__ import annotations

import httpx
import pytest

from strata_kernel import deadlines
from strata_kernel.contracts.deadline import DEADLINE_MS, RESERVE_SECONDS, Deadline, InvalidDeadline
from strata_kernel.errors import Unavailable
from strata_kernel.http import ServiceClient
from strata_kernel.service import create_service_app
from tests.support import json_of


def _client(handler: object, timeout: float = 2.0) -> ServiceClient:
    return ServiceClient("engine", "http://engine.test", timeout_seconds=timeout, retries=2,
                         transport=httpx.MockTransport(handler))  # type: ignore[arg-type]  # fmt: skip


def test_a_call_tells_the_callee_how_long_it_waits() -> None:
    sent: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(int(request.headers[DEADLINE_MS]))
        return httpx.Response(200, json={})

    _client(handler, timeout=2.0).get("/x")  # the top of a chain: its own timeout
    with deadlines.within(Deadline.after(0.8)):  # below it: what is left, minus this hop's reserve
        _client(handler, timeout=2.0).get("/x")
    assert 1990 <= sent[0] <= 2000
    assert (0.8 - RESERVE_SECONDS) * 1000 - 50 < sent[1] <= (0.8 - RESERVE_SECONDS) * 1000


def test_below_the_top_hop_a_timeout_is_not_retried_but_a_refused_connection_is() -> None:
    calls: list[str] = []

    def timing_out(request: httpx.Request) -> httpx.Response:
        calls.append("timeout")
        raise httpx.ReadTimeout("slow", request=request)

    with deadlines.within(Deadline.after(5)), pytest.raises(Unavailable, match="timed out"):
        _client(timing_out).get("/x")
    assert calls == ["timeout"]

    def refused_once(request: httpx.Request) -> httpx.Response:
        calls.append("refused")
        if calls.count("refused") == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"ok": True})

    with deadlines.within(Deadline.after(5)):
        assert _client(refused_once).get("/x") == {"ok": True}
    assert calls.count("refused") == 2


def test_no_call_is_made_once_the_deadline_has_passed() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, json={})

    with deadlines.within(Deadline.after(0.05)), pytest.raises(Unavailable, match="no time left"):
        _client(handler).get("/x")
    assert calls == []


def test_a_service_takes_the_deadline_from_the_header_and_refuses_a_malformed_one() -> None:
    app = create_service_app("t", title="t")
    seen: list[float | None] = []

    @app.get("/work")
    def work() -> dict[str, str]:
        current = deadlines.current()
        seen.append(None if current is None else current.remaining())
        return {}

    client = app.test_client()
    assert client.get("/work", headers={DEADLINE_MS: "1500"}).status_code == 200
    assert client.get("/work").status_code == 200
    bad = client.get("/work", headers={DEADLINE_MS: "soon"})
    passed = client.get("/work", headers={DEADLINE_MS: "0"})
    assert 1.0 < seen[0] <= 1.5 and seen[1] is None  # type: ignore[operator]
    assert (bad.status_code, json_of(bad)["error"]["field"]) == (400, DEADLINE_MS)
    assert (passed.status_code, json_of(passed)["error"]["code"]) == (503, "deadline_exceeded")
    with pytest.raises(InvalidDeadline):
        Deadline.from_wire("-5")
    superscript = client.get("/work", headers={DEADLINE_MS: "\u00b2"})  # a digit to str.isdigit, not to int()
    assert (superscript.status_code, json_of(superscript)["error"]["field"]) == (400, DEADLINE_MS)
