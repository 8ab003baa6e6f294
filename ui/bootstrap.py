"""Composition root of the UI: settings pick the BusinessLogic adapter; tests pass a fake instead."""

from __future__ import annotations

from ui.adapters.business_logic_http import HttpBusinessLogic
from ui.ports import BusinessLogic
from ui.settings import Settings


def bootstrap(settings: Settings, *, business_logic: BusinessLogic | None = None) -> BusinessLogic:
    if business_logic is not None:
        return business_logic
    return HttpBusinessLogic(
        settings.business_logic_url,
        timeout_seconds=settings.business_logic_timeout_seconds,
        retries=settings.http_retries,
    )
