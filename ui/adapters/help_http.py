"""HelpCentre port over HTTP: business_logic's help API relayed unchanged (status and body)."""

from __future__ import annotations

from urllib.parse import quote

from ui.adapters.relay import BusinessLogicRelay
from ui.domain.reply import Reply
from ui.ports import HelpCentre


class HttpHelpCentre(BusinessLogicRelay, HelpCentre):
    def list_questions(self) -> Reply:
        return self._relay("GET", "/v1/help/questions")

    def ask(self, body: object) -> Reply:
        return self._relay("POST", "/v1/help/ask", json=body)

    def give_feedback(self, question_id: str, body: object) -> Reply:
        return self._relay("POST", f"/v1/help/questions/{quote(question_id, safe='')}/feedback", json=body)
