"""The one way the UI reaches another deployable: ServiceClient.relay, answers passed on unchanged (status and body,
an error's ``field`` included), with the kernel client's timeouts, retries, request ids and 503 on transport failure.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from strata_kernel.contracts.auth import Credential
from strata_kernel.http import ServiceClient
from ui.domain.reply import Reply


class ServiceRelay:
    """Base of the UI's HTTP adapters: ``service`` names the deployable that answers (in 503 messages)."""

    service: ClassVar[str]

    def __init__(
        self,
        base_url: str,
        *,
        timeout_seconds: float = 5.0,
        retries: int = 2,
        credential: Credential | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = ServiceClient(
            self.service,
            base_url,
            timeout_seconds=timeout_seconds,
            retries=retries,
            credential=credential,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def _relay(self, method: str, path: str, **kwargs: Any) -> Reply:
        status, body = self._client.relay(method, path, **kwargs)
        return Reply(status=status, body=body)


class BusinessLogicRelay(ServiceRelay):
    """Base of the HTTP adapters of the UI's ports that business_logic answers."""

    service = "business_logic"
