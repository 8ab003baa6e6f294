"""The one way a deployable calls another: JSON over HTTP under one deadline, bounded retries and typed errors.

Every call fits in a deadline: the request's own (from its ``X-Deadline-Ms`` header, minus a reserve), else this
client's ``timeout_seconds`` — the call *and its retries* end within it, and the callee is told how long we wait
(``X-Deadline-Ms``). A failed attempt is retried while time is left — but below the hop that started the chain
(a call made under an inherited deadline) a timed-out one is not: retries there would compound across hops and
multiply the load on a callee that is already slow.

A transport failure becomes :class:`Unavailable` (HTTP 503 to our own caller); an error response is
re-raised as the matching :class:`StrataError`, keeping the upstream service's message.

Calls go through kept-alive ``http.client`` connections (:class:`_ConnectionPool`): per call on the hot path
(business logic -> data processing -> engine) they cost about 60% of the CPU of the urllib3 pool they replace (itself
built on http.client), which cost half an httpx.Client's. An injected httpx transport (tests' MockTransport,
WSGITransport) is still served through httpx: the transport stays the port tests plug into. httpx itself is imported
only then: its import (which also loads its own command line: click, rich, pygments) was most of an operator
command's start-up (`strata rollback`).
"""

from __future__ import annotations

import http.client
import json
import logging
import select
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from strata_kernel import deadlines
from strata_kernel.contracts.auth import OPERATOR, Credential
from strata_kernel.contracts.deadline import DEADLINE_MS, Deadline
from strata_kernel.errors import Unavailable, UpstreamError, error_for_status
from strata_kernel.logs import REQUEST_ID_HEADER, request_id_var

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)


class TransportFailure(Exception):
    """An attempt that got no HTTP answer: the one vocabulary of the retry rules, whichever way the call went."""


class ConnectionRefused(TransportFailure):
    pass


class TimedOut(TransportFailure):
    pass


@dataclass(frozen=True)
class Reply:
    """The parts of an HTTP response a caller reads."""

    status_code: int
    content: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        return json.loads(self.content)


class ServiceClient:
    """A keep-alive JSON client for one service. Thread-safe (its connection pool and httpx.Client are)."""

    def __init__(
        self,
        service: str,
        base_url: str,
        *,
        timeout_seconds: float = 2.0,
        retries: int = 2,
        token: str | None = None,
        credential: Credential | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``credential``: this deployable's service credential (sent on every call, so the other side knows who
        called); ``token``: a bare bearer token (the operator's)."""
        self.service = service
        headers = credential.header() if credential is not None else {}
        if token:
            headers = Credential(OPERATOR, token).header()
        self._headers = {"Accept": "application/json", **headers}
        self._client = None if transport is None else _httpx_client(base_url, transport, headers)
        self._pool = _ConnectionPool(base_url)
        self._prefix = urlsplit(base_url).path.rstrip("/")
        self._retries = retries
        self._timeout = timeout_seconds

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        return self.request("POST", path, json=body, headers=headers)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, json=body)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request; return the decoded JSON body or raise the upstream error as a StrataError."""
        return self._decode(self.exchange(method, path, **kwargs))

    def relay(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """Send a request; return ``(status, JSON body)`` as they came, errors included (for proxies)."""
        response = self.exchange(method, path, **kwargs)
        try:
            return response.status_code, response.json() if response.content else None
        except ValueError as exc:
            raise UpstreamError(f"{self.service} returned non-JSON (HTTP {response.status_code})") from exc

    def exchange(self, method: str, path: str, **kwargs: Any) -> Reply:
        """The raw response; transport failures become :class:`Unavailable` after bounded retries."""
        headers = {REQUEST_ID_HEADER: request_id_var.get(), **(kwargs.pop("headers", None) or {})}
        inherited = deadlines.current()
        deadline = inherited if inherited is not None else Deadline.after(self._timeout)
        budget = deadline.for_call if inherited is not None else deadline.remaining
        top_hop = inherited is None
        try:
            # fast path: no retry machinery unless the first attempt fails at the transport level
            return self._attempt(method, path, headers, kwargs, budget)
        except TransportFailure as exc:
            if self._retries <= 0 or not _worth_retrying(exc, top_hop) or budget() <= 0:
                raise self._unavailable(exc) from exc
            return self._retry(method, path, headers, kwargs, budget, top_hop)

    def _attempt(
        self, method: str, path: str, headers: dict[str, str], kwargs: dict[str, Any], budget: Callable[[], float]
    ) -> Reply:
        seconds = min(self._timeout, budget())
        if seconds <= 0:
            raise self._out_of_time()
        headers[DEADLINE_MS] = Deadline.to_wire(seconds)
        if self._client is not None:
            return _through_httpx(self._client, method, path, headers, seconds, kwargs)
        return self._send(method, path, headers, seconds, **kwargs)

    def _send(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        seconds: float,
        *,
        json: Any = None,
        params: Any = None,
    ) -> Reply:
        """One attempt on a kept-alive connection; its failures are raised as :class:`TransportFailure`."""
        body = None
        if json is not None:
            body = _json_bytes(json)
            headers["Content-Type"] = "application/json"
        url = self._prefix + path
        if params:
            url += "?" + _query(params)
        connection = self._pool.take(seconds)
        try:
            connection.request(method, url, body=body, headers={**self._headers, **headers})
            answer = connection.getresponse()
            reply = Reply(answer.status, answer.read(), answer.headers)  # type: ignore[arg-type]
        except TimeoutError as exc:  # socket.timeout
            connection.close()
            raise TimedOut(str(exc) or "timed out") from exc
        except (OSError, http.client.HTTPException) as exc:  # reset, closed by the server, a garbled answer
            connection.close()
            raise TransportFailure(f"{type(exc).__name__}: {exc}") from exc
        self._pool.give_back(connection)
        return reply

    def _retry(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        kwargs: dict[str, Any],
        budget: Callable[[], float],
        top_hop: bool,
    ) -> Reply:
        """``retries`` more attempts after the first one, with a short exponential back-off, while time is left."""
        retrying = Retrying(
            stop=stop_after_attempt(self._retries),
            wait=wait_exponential(multiplier=0.05, max=0.5),
            retry=retry_if_exception(lambda exc: _worth_retrying(exc, top_hop) and budget() > 0),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(method, path, headers, kwargs, budget)
        except TransportFailure as exc:
            raise self._unavailable(exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _out_of_time(self) -> Unavailable:
        return Unavailable(
            f"{self.service} unavailable: no time left in the request's deadline", code=f"{self.service}_unavailable"
        )

    def _unavailable(self, exc: TransportFailure) -> Unavailable:
        return Unavailable(f"{self.service} unavailable: {_describe(exc)}", code=f"{self.service}_unavailable")

    def _decode(self, response: Reply) -> Any:
        try:
            payload = response.json() if response.content else None
        except ValueError as exc:
            raise UpstreamError(f"{self.service} returned non-JSON (HTTP {response.status_code})") from exc
        if response.status_code >= 400:
            error = (payload or {}).get("error", {}) if isinstance(payload, dict) else {}
            message = error.get("message") or f"HTTP {response.status_code}"
            if response.status_code in (401, 403):  # our own credential was refused: a deployment fault, not the user's
                raise UpstreamError(f"{self.service} refused this service's credential: {message}",
                                    code=f"{self.service}_refused")  # fmt: skip
            retry_after = _retry_after(response.headers.get("Retry-After"))
            raise error_for_status(response.status_code, message, error.get("code"), error.get("field"), retry_after)
        return payload

    def close(self) -> None:
        self._pool.close()
        if self._client is not None:
            self._client.close()


class _ConnectionPool:
    """Idle kept-alive connections to one service, shared by the caller's threads: a call takes one (or opens one)
    and gives it back after reading the whole answer; up to ``keep`` idle ones are kept, more are never waited for.

    A connection the service closed while it sat idle (gunicorn's keep-alive ends after 30 s) is seen readable
    before it is used, and replaced; one closed in between fails its call, which the retry rules handle."""

    def __init__(self, base_url: str, keep: int = 32) -> None:
        parts = urlsplit(base_url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port
        self._keep = keep
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def take(self, seconds: float) -> http.client.HTTPConnection:
        """A connection ready to send, its socket timing out after ``seconds``; a failed connect raises
        :class:`ConnectionRefused` (refused, unreachable, unknown host) or :class:`TimedOut`."""
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return self._open(seconds)
            if connection.sock is not None and not _dropped(connection.sock):
                connection.sock.settimeout(seconds)
                return connection
            connection.close()

    def give_back(self, connection: http.client.HTTPConnection) -> None:
        if connection.sock is None:  # the answer said "Connection: close"
            return
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _open(self, seconds: float) -> http.client.HTTPConnection:
        kind = _OneSendHTTPSConnection if self._https else _OneSendHTTPConnection
        connection = kind(self._host, self._port, timeout=seconds)
        try:
            connection.connect()
        except TimeoutError as exc:
            raise TimedOut(str(exc) or "timed out") from exc
        except OSError as exc:
            raise ConnectionRefused(str(exc)) from exc
        return connection


class _OneSendHTTPConnection(http.client.HTTPConnection):
    """Sends the request line, the headers and a JSON body in one ``send`` (see :func:`_send_with_headers`)."""

    def _send_output(self, message_body: Any = None, encode_chunked: bool = False) -> None:
        if not _send_with_headers(self, message_body, encode_chunked):
            super()._send_output(message_body, encode_chunked)  # type: ignore[misc]


class _OneSendHTTPSConnection(_OneSendHTTPConnection, http.client.HTTPSConnection):
    """The same over TLS: ``connect`` is HTTPSConnection's, ``_send_output`` the one above."""


def _send_with_headers(connection: http.client.HTTPConnection, body: Any, encode_chunked: bool) -> bool:
    """Send the buffered request line and headers with a bytes ``body`` in one ``send``; False for other bodies.

    ``http.client`` sends the body on its own: two segments on a connection without Nagle's delay, so the service's
    worker woke for the headers, then again for the body, and the kernel handled two packets each way (isolated
    A/B, a data_processing -> engine call: about 110 us less CPU per call on the two sides together). This stands
    in for ``HTTPConnection._send_output`` (the same since Python 3.6) for a bytes body only.
    """
    if not isinstance(body, bytes) or encode_chunked:
        return False
    lines: list[bytes] = connection._buffer  # type: ignore[attr-defined]
    lines.extend((b"", body))  # joined: "...\r\n\r\n" + body
    message = b"\r\n".join(lines)
    del lines[:]
    connection.send(message)
    return True


def _dropped(sock: socket.socket) -> bool:
    """An idle kept-alive socket that is readable was closed by the other side (or sent what nobody asked for)."""
    poller = select.poll()  # not select.select: it refuses descriptors above 1023
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


def _httpx_client(base_url: str, transport: httpx.BaseTransport, headers: dict[str, str]) -> httpx.Client:
    import httpx

    return httpx.Client(base_url=base_url, transport=transport, headers=headers)


def _through_httpx(
    client: httpx.Client, method: str, path: str, headers: dict[str, str], seconds: float, kwargs: dict[str, Any]
) -> Reply:
    """One attempt through an injected httpx transport; its transport errors become ours."""
    import httpx

    try:
        answer = client.request(method, path, headers=headers, timeout=seconds, **kwargs)
    except httpx.ConnectError as exc:
        raise ConnectionRefused(str(exc)) from exc
    except httpx.TimeoutException as exc:
        raise TimedOut(str(exc)) from exc
    except httpx.TransportError as exc:
        raise TransportFailure(f"{type(exc).__name__}: {exc}") from exc
    return Reply(answer.status_code, answer.content, answer.headers)


def _query(params: Mapping[str, Any]) -> str:
    """A query string as httpx writes one: sequences repeat their key, booleans are lower case, None is empty."""
    pairs = []
    for key, value in params.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            pairs.append((key, _query_value(item)))
    return urlencode(pairs)


def _query_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json_bytes(body: Any) -> bytes:
    """JSON as httpx encodes it (compact, UTF-8, NaN refused)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _retry_after(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


def _worth_retrying(exc: BaseException, top_hop: bool) -> bool:
    """Any transport failure at the top of a chain; below it, not a timeout (it would compound across hops)."""
    return isinstance(exc, TransportFailure) and (top_hop or not isinstance(exc, TimedOut))


def _describe(exc: TransportFailure) -> str:
    if isinstance(exc, ConnectionRefused):
        return "connection refused"
    if isinstance(exc, TimedOut):
        return "timed out"
    return str(exc).split(":", 1)[0] or type(exc).__name__
