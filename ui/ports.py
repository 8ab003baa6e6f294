"""The UI's only dependency: business_logic, seen through this port."""

from __future__ import annotations

import abc
from collections.abc import Mapping

from ui.domain.reply import Reply


class BusinessLogic(abc.ABC):
    """Relays the business_logic API; replies carry its status and body as they came."""

    @abc.abstractmethod
    def list_restaurants(self, filters: Mapping[str, str]) -> Reply:
        """``GET /v1/restaurants`` with the given query filters (city_id, q, limit)."""

    @abc.abstractmethod
    def get_restaurant(self, restaurant_id: str) -> Reply:
        """``GET /v1/restaurants/{id}``: a restaurant with its menu."""

    @abc.abstractmethod
    def quote_etd(self, body: object) -> Reply:
        """``POST /v1/etd`` with the caller's JSON body."""

    @abc.abstractmethod
    def problem(self) -> str | None:
        """``None`` when business_logic answers, else a one-line reason (for readiness)."""
