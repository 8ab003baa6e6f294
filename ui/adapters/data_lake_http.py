"""LakeCatalog port over HTTP: the data lake's catalog and analysis API, relayed unchanged (status and body)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from strata_kernel.contracts.auth import Credential
from strata_kernel.http import ServiceClient
from ui.domain.reply import Reply
from ui.ports import LakeCatalog


class HttpLakeCatalog(LakeCatalog):
    def __init__(
        self,
        base_url: str,
        *,
        timeout_seconds: float = 30.0,
        retries: int = 2,
        credential: Credential | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = ServiceClient(
            "data_lake",
            base_url,
            timeout_seconds=timeout_seconds,
            retries=retries,
            credential=credential,
            transport=transport,
        )

    def overview(self) -> Reply:
        return self._relay("/v1/overview")

    def table(self, name: str) -> Reply:
        return self._relay(f"/v1/tables/{quote(name, safe='')}")

    def profile(self, name: str, version: str | None) -> Reply:
        return self._relay(f"/v1/tables/{quote(name, safe='')}/profile", params=_present(version=version))

    def diff(self, name: str, first: str | None, second: str | None) -> Reply:
        params = _present(**{"from": first, "to": second})
        return self._relay(f"/v1/tables/{quote(name, safe='')}/diff", params=params)

    def lineage(self, name: str) -> Reply:
        return self._relay(f"/v1/tables/{quote(name, safe='')}/lineage")

    def close(self) -> None:
        self._client.close()

    def _relay(self, path: str, **kwargs: Any) -> Reply:
        status, body = self._client.relay("GET", path, **kwargs)
        return Reply(status=status, body=body)


def _present(**values: str | None) -> dict[str, str] | None:
    kept = {key: value for key, value in values.items() if value}
    return kept or None
