"""Deployments port over HTTP: comparative_eval's history API, relayed unchanged (status and body)."""

from __future__ import annotations

from urllib.parse import quote

from ui.adapters.relay import ServiceRelay
from ui.domain.reply import Reply
from ui.ports import Deployments


class HttpDeployments(ServiceRelay, Deployments):
    service = "comparative_eval"

    def history(self, name: str) -> Reply:
        return self._relay("GET", f"/v1/deployments/{quote(name, safe='')}/history")
