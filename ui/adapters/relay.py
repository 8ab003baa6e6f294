"""The one way the UI reaches business_logic: ServiceClient.relay, answers passed on unchanged (status and body,
an error's ``field`` included), with the kernel client's timeouts, retries, request ids and 503 on transport failure.
"""

from __future__ import annotations

from typing import Any

import httpx

from strata_kernel.http import ServiceClient
from ui.domain.reply import Reply


class BusinessLogicRelay:
    """Base of the HTTP adapters of the UI's ports that business_logic answers."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_seconds: float = 5.0,
        retries: int = 2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = ServiceClient(
            "business_logic", base_url, timeout_seconds=timeout_seconds, retries=retries, transport=transport
        )

    def close(self) -> None:
        self._client.close()

    def _relay(self, method: str, path: str, **kwargs: Any) -> Reply:
        status, body = self._client.relay(method, path, **kwargs)
        return Reply(status=status, body=body)
