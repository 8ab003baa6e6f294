"""strata_kernel.http.ServiceClient over a real socket (kept-alive connections, the way services call each other)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from strata_kernel import deadlines
from strata_kernel.contracts.deadline import DEADLINE_MS, Deadline
from strata_kernel.errors import NotFound, Unavailable, UpstreamError
from strata_kernel.http import ServiceClient
from strata_kernel.logs import REQUEST_ID_HEADER, request_id_var
from tests.support import free_port

SEEN: list[dict[str, object]] = []


class _Handler(BaseHTTPRequestHandler):
    """A keep-alive HTTP/1.1 server (as gunicorn's gthread is), recording what it was sent."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        SEEN.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                     "port": self.client_address[1]})  # fmt: skip
        status, payload, kind = 200, json.dumps({"echo": body}).encode(), "application/json"
        if "/slow" in self.path:
            time.sleep(float(self.path.rsplit("=", 1)[1]))
        if self.path.endswith("/missing"):
            status = 404
            payload = json.dumps({"error": {"code": "model_missing", "message": "no model etd"}}).encode()
        if self.path.endswith("/html"):
            status, payload, kind = 502, b"<html>Bad Gateway</html>", "text/html"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        if self.path.endswith("/close"):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.handle_error = lambda *_args: None  # type: ignore[method-assign]  # a client that gave up is expected
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_json_goes_out_and_comes_back_with_the_request_id_and_credential(base_url: str) -> None:
    client = ServiceClient("engine", base_url + "/prefix", token="s3cret")
    token = request_id_var.set("req-9")
    try:
        answer = client.post("/v1/predict", {"instances": [{"x": "é"}]})
    finally:
        request_id_var.reset(token)

    assert answer == {"echo": {"instances": [{"x": "é"}]}}
    sent = SEEN[-1]
    headers = sent["headers"]
    assert isinstance(headers, dict)
    assert sent["path"] == "/prefix/v1/predict"  # the base URL's path is kept, as httpx's base_url does
    assert (headers[REQUEST_ID_HEADER.lower()], headers["authorization"]) == ("req-9", "Bearer s3cret")
    assert headers["content-type"] == "application/json"
    assert 1900 <= int(headers[DEADLINE_MS.lower()]) <= 2000


def test_query_parameters_are_encoded(base_url: str) -> None:
    ServiceClient("engine", base_url).get("/v1/models", params={"q": "a b&c", "limit": 5})
    assert SEEN[-1]["path"] == "/v1/models?q=a+b%26c&limit=5"  # as httpx encodes them


def test_error_answers_keep_the_upstream_message(base_url: str) -> None:
    client = ServiceClient("engine", base_url)
    with pytest.raises(NotFound) as caught:
        client.get("/missing")
    assert (caught.value.message, caught.value.code) == ("no model etd", "model_missing")
    with pytest.raises(UpstreamError, match=r"engine returned non-JSON \(HTTP 502\)"):
        client.get("/html")
    assert client.relay("GET", "/missing") == (404, {"error": {"code": "model_missing", "message": "no model etd"}})


def test_a_refused_connection_is_unavailable_after_bounded_retries() -> None:
    client = ServiceClient("engine", f"http://127.0.0.1:{free_port()}", retries=2)
    started = time.monotonic()
    with pytest.raises(Unavailable, match="engine unavailable: connection refused"):
        client.get("/v1/models")
    assert time.monotonic() - started < 5.0  # bounded: two short back-offs, no waiting for a timeout


def test_below_the_top_hop_a_timeout_is_not_retried(base_url: str) -> None:
    client = ServiceClient("engine", base_url, timeout_seconds=2.0, retries=2)
    before = len(SEEN)
    with deadlines.within(Deadline.after(0.4)), pytest.raises(Unavailable, match="engine unavailable: timed out"):
        client.get("/slow", params={"seconds": "1.0"})
    assert len(SEEN) - before == 1


def test_connections_are_kept_alive_between_calls(base_url: str) -> None:
    client = ServiceClient("engine", base_url)
    for _ in range(5):
        client.post("/v1/predict", {"n": 1})
    assert len({sent["port"] for sent in SEEN[-5:]}) == 1  # one connection served all five calls


def test_a_request_and_its_json_body_go_out_in_one_send(base_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Headers and body in two sends woke the service's worker twice and cost the kernel two packets each way."""
    sent: list[bytes] = []
    plain_send = http.client.HTTPConnection.send

    def counted(connection: http.client.HTTPConnection, data: bytes) -> None:
        sent.append(bytes(data))
        plain_send(connection, data)

    monkeypatch.setattr(http.client.HTTPConnection, "send", counted)
    client = ServiceClient("engine", base_url)
    for n in (1, 2):
        sent.clear()
        assert client.post("/v1/predict", {"n": n, "text": "é"}) == {"echo": {"n": n, "text": "é"}}
        assert len(sent) == 1
        assert sent[0].startswith(b"POST /v1/predict HTTP/1.1\r\n")
        assert sent[0].endswith(b'\r\n\r\n{"n":' + str(n).encode() + b',"text":"\xc3\xa9"}')
    sent.clear()
    client.get("/v1/models")  # no body: the request line and headers alone
    assert len(sent) == 1 and sent[0].endswith(b"\r\n\r\n")


def _one_answer_then_close(listener: socket.socket, answers: int) -> None:
    """Answer ``answers`` requests, each on its own connection that is closed after a keep-alive answer, as a
    service whose keep-alive ran out (or that restarted) closes an idle connection."""
    for _ in range(answers):
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            payload = b'{"ok": true}'
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                               + str(len(payload)).encode() + b"\r\n\r\n" + payload)  # fmt: skip


def test_a_connection_the_service_closed_while_idle_is_replaced_not_failed() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    server = threading.Thread(target=_one_answer_then_close, args=(listener, 3), daemon=True)
    server.start()
    client = ServiceClient("engine", f"http://127.0.0.1:{listener.getsockname()[1]}", retries=0)  # no retry hides it
    try:
        for _ in range(3):
            assert client.get("/v1/models") == {"ok": True}
            time.sleep(0.05)  # the service has closed the kept-alive connection by the next call
    finally:
        client.close()
        listener.close()
    server.join(timeout=5)
    assert not server.is_alive()


def test_calls_from_many_threads_each_get_their_own_answer(base_url: str) -> None:
    client = ServiceClient("engine", base_url)
    answers: dict[int, list[object]] = {}

    def call(thread: int) -> None:
        answers[thread] = [client.post("/v1/predict", {"thread": thread, "call": n}) for n in range(20)]

    threads = [threading.Thread(target=call, args=(thread,)) for thread in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {t: [{"echo": {"thread": t, "call": n}} for n in range(20)] for t in range(12)}
    assert len({sent["port"] for sent in SEEN[-240:]}) <= 12  # connections were reused, not one per call


def test_an_answer_that_closes_its_connection_leaves_the_next_call_working(base_url: str) -> None:
    client = ServiceClient("engine", base_url, retries=0)
    assert client.get("/close") == {"echo": None}
    assert client.get("/close") == {"echo": None}
    assert SEEN[-1]["port"] != SEEN[-2]["port"]  # a new connection, opened without an error
