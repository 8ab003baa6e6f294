"""HelpCentre port over HTTP: business_logic's help API relayed unchanged (status and body) by ServiceClient."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from strata_kernel.http import ServiceClient
from ui.domain.reply import Reply
from ui.ports import HelpCentre


class HttpHelpCentre(HelpCentre):
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

    def list_questions(self) -> Reply:
        return self._relay("GET", "/v1/help/questions")

    def ask(self, body: object) -> Reply:
        return self._relay("POST", "/v1/help/ask", json=body)

    def give_feedback(self, question_id: str, body: object) -> Reply:
        return self._relay("POST", f"/v1/help/questions/{quote(question_id, safe='')}/feedback", json=body)

    def close(self) -> None:
        self._client.close()

    def _relay(self, method: str, path: str, **kwargs: object) -> Reply:
        status, body = self._client.relay(method, path, **kwargs)
        return Reply(status=status, body=body)
