"""A model version's reference profile, as the inference engine serves it to its monitors."""

from __future__ import annotations

import logging
from urllib.parse import quote

import httpx

from monitoring.ports import ReferenceSource
from strata_kernel.profiles.model import ProfileFormatError
from strata_kernel.profiles.reference import ReferenceProfile

log = logging.getLogger(__name__)


class HttpReferenceSource(ReferenceSource):
    """``GET /v1/models/{name}/versions/{version}/reference`` on the engine (a read: no credential)."""

    def __init__(self, engine_url: str, *, timeout_seconds: float = 5.0, transport: httpx.BaseTransport | None = None):
        self._client = httpx.Client(base_url=engine_url, timeout=timeout_seconds, transport=transport)

    def reference(self, model: str, version: str) -> ReferenceProfile | None:
        path = f"/v1/models/{quote(model, safe='')}/versions/{quote(version, safe='')}/reference"
        try:
            response = self._client.get(path)
            if response.status_code != 200:
                log.warning("no reference profile for %s v%s: HTTP %s", model, version, response.status_code)
                return None
            return ReferenceProfile.from_dict(response.json())
        except (httpx.HTTPError, ValueError, ProfileFormatError) as exc:
            log.warning("no reference profile for %s v%s: %s", model, version, exc)
            return None
