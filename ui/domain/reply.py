"""What the UI relays: an upstream answer, status and JSON body, unchanged."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    status: int
    body: object
