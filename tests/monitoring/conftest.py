"""Fixtures of the monitoring tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from live_component import LiveComponent


@pytest.fixture
def live_component() -> Iterator[LiveComponent]:
    component = LiveComponent()
    component.start()
    yield component
    component.stop()
