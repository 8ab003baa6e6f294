"""BusinessLogic port over HTTP: restaurants and ETD quotes relayed unchanged (ui.adapters.relay)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from strata_kernel.errors import StrataError
from ui.adapters.relay import BusinessLogicRelay
from ui.domain.reply import Reply
from ui.ports import BusinessLogic


class HttpBusinessLogic(BusinessLogicRelay, BusinessLogic):
    def list_restaurants(self, filters: Mapping[str, str]) -> Reply:
        return self._relay("GET", "/v1/restaurants", params=dict(filters))

    def get_restaurant(self, restaurant_id: str) -> Reply:
        return self._relay("GET", f"/v1/restaurants/{quote(restaurant_id, safe='')}")

    def quote_etd(self, body: object) -> Reply:
        return self._relay("POST", "/v1/etd", json=body)

    def problem(self) -> str | None:
        try:
            reply = self._relay("GET", "/healthz")
        except StrataError as exc:
            return exc.message
        return None if reply.status == 200 else f"business_logic /healthz answered HTTP {reply.status}"
