"""HTTP GETs of the sidecar on the standard library's ``http.client``: its probes and the data monitors' reads.

Not httpx: a sidecar makes a few GETs a minute over loopback or the host's network, with no need for a pool or
HTTP/2, and importing httpx loads httpcore, anyio, and rich and pygments for its command line (about 5 MB of each
sidecar, a tenth of it). Each GET opens its own connection: a kept-alive one the service closed meanwhile would
fail a read that should pass, and there is no retry to hide it.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

#: query parameters: pairs (a name may repeat) or a mapping
Params = Sequence[tuple[str, str]] | Mapping[str, str]


class HttpStatusError(RuntimeError):
    """A 4xx or 5xx answer where the reader needs a 2xx (the data monitors' loop logs it and tries again)."""

    def __init__(self, status: int, path: str) -> None:
        super().__init__(f"HTTP {status} from GET {path}")
        self.status = status


class Endpoint:
    """A service's base URL (``http://host:port/prefix``) and the timeout of each socket operation."""

    def __init__(self, base_url: str, *, timeout_seconds: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{base_url!r} must be an http:// or https:// URL with a host")
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port  # .port raises ValueError for one that is no number
        self._prefix = parts.path.rstrip("/")
        self.timeout_seconds = timeout_seconds

    def connection(self) -> http.client.HTTPConnection:
        """A new, unconnected connection (``connect()`` or ``request()`` opens it)."""
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout_seconds)
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout_seconds)

    def target(self, path: str, params: Params = ()) -> str:
        query = urlencode(params)
        return self._prefix + path + (f"?{query}" if query else "")


class JsonReader:
    """GET a JSON document from a service. Transport failures raise ``OSError`` (refused, timed out, reset) or
    ``http.client.HTTPException`` (not HTTP)."""

    def __init__(self, base_url: str, *, timeout_seconds: float) -> None:
        self._endpoint = Endpoint(base_url, timeout_seconds=timeout_seconds)

    def get(self, path: str, params: Params = ()) -> tuple[int, Any]:
        """The answer's status and its body parsed as JSON (``ValueError`` if a 2xx body is not JSON; a non-2xx
        body that is not JSON gives None)."""
        connection = self._endpoint.connection()
        try:
            connection.request("GET", self._endpoint.target(path, params), headers={"Accept": "application/json"})
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        try:
            return response.status, json.loads(body) if body else None
        except ValueError:
            if 200 <= response.status < 300:
                raise
            return response.status, None

    def get_ok(self, path: str, params: Params = ()) -> Any:
        """The body of a 2xx answer; :class:`HttpStatusError` for any other."""
        status, body = self.get(path, params)
        if not 200 <= status < 300:
            raise HttpStatusError(status, path)
        return body
