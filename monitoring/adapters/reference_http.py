"""A model version's reference profile, as the inference engine serves it to its monitors."""

from __future__ import annotations

import http.client
import logging
from urllib.parse import quote

from monitoring.adapters.plain_http import JsonReader
from monitoring.ports import ReferenceSource
from strata_kernel.profiles.model import ProfileFormatError
from strata_kernel.profiles.reference import ReferenceProfile

log = logging.getLogger(__name__)


class HttpReferenceSource(ReferenceSource):
    """``GET /v1/models/{name}/versions/{version}/reference`` on the engine (a read: no credential)."""

    def __init__(self, engine_url: str, *, timeout_seconds: float = 5.0) -> None:
        self._engine = JsonReader(engine_url, timeout_seconds=timeout_seconds)

    def reference(self, model: str, version: str) -> ReferenceProfile | None:
        path = f"/v1/models/{quote(model, safe='')}/versions/{quote(version, safe='')}/reference"
        try:
            status, body = self._engine.get(path)
            if status != 200:
                log.warning("no reference profile for %s v%s: HTTP %s", model, version, status)
                return None
            return ReferenceProfile.from_dict(body)
        except (OSError, http.client.HTTPException, ValueError, ProfileFormatError) as exc:
            log.warning("no reference profile for %s v%s: %s", model, version, exc)
            return None
