"""``GET /v1/models/{name}/versions/{version}/reference``: the version's reference profile, for the monitors."""

from __future__ import annotations

from typing import Any

from apiflask import APIFlask

from inference_engine.errors import VersionNotFound
from inference_engine.reference_profiles import ReferenceProfiles
from strata_kernel.contracts.wire import version_number


def register_reference_routes(app: APIFlask, references: ReferenceProfiles) -> None:
    @app.get("/v1/models/<name>/versions/<version>/reference")
    @app.doc(
        tags=["models"],
        summary="The version's reference profile (format strata.reference: its training rows and its own "
        "predictions, overall and by hour / node), as stored with it in MLflow (profile/reference.json).",
        responses=[404, 503],
    )
    def reference(name: str, version: str) -> dict[str, Any]:
        number = version_number(version)  # ASCII digits only: "²" passes isdigit() and then fails int()
        if number is None:
            raise VersionNotFound(f"model {name} has no version {version!r} (versions are positive integers)")
        return references.get(name, number)
