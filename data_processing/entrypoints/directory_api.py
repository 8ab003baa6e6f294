"""REST API of the feature directory, registered on data_processing's service app (see docs/contracts.md).

- ``GET /v1/feature-groups?q=``            groups with freshness (search in names, descriptions, owners, entities)
- ``GET /v1/feature-groups/{name}``        schema, freshness vs the SLO, who uses each feature
- ``GET /v1/features/{@group:feature}``    one feature and who uses it
- ``POST /v1/feature-groups``              register ``{"path"}`` (a YAML file under feature_groups_dir) or
                                           ``{"yaml", "code"}`` (texts); 400 / 409 with a message naming the field
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from apiflask import APIFlask, Schema, fields
from flask import request

from data_processing.directory.ports import FeatureDirectory
from data_processing.directory.services import (
    BODY,
    FreshnessOf,
    ZoneOf,
    describe_feature,
    describe_group,
    list_groups,
    load_entities,
    register_group,
    register_group_file,
    registration_summary,
)
from data_processing.directory.usage import UsageRecorder
from data_processing.domain.registry_rules import RegistrationRefused
from strata_kernel.access import callers
from strata_kernel.contracts.auth import OPERATOR
from strata_kernel.errors import TooManyRequests
from strata_kernel.inputs import body_limit
from strata_kernel.service import add_response_headers

TAGS = ["feature directory"]
#: a group's YAML (64 kB at most, strata_kernel.safe_yaml) and its code (128 kB), JSON-escaped
REGISTRATION_BODY_LIMIT = 512 * 1024


class RegisterIn(Schema):
    path = fields.String(metadata={"description": "A group's YAML file under the service's feature_groups_dir."})
    yaml = fields.String(metadata={"description": "The group's YAML text (with `code`)."})
    code = fields.String(metadata={"description": "The group's code text (PySpark / streaming function)."})


def register_directory_routes(
    app: APIFlask,
    directory: FeatureDirectory,
    groups_dir: Path,
    *,
    fresh: FreshnessOf,
    zone_of: ZoneOf = lambda _group: None,
    clock: Callable[[], datetime] = datetime.now,
) -> None:
    """``fresh``: a group's freshness (data_processing.freshness), the same the metric reports; ``zone_of``: the
    zone a group declares (``time_zone``)."""

    @app.get("/v1/feature-groups")
    @app.doc(tags=TAGS, summary="Registered feature groups with their freshness; q= searches.")
    def feature_groups() -> dict[str, Any]:
        return {"feature_groups": list_groups(directory, request.args.get("q", ""), fresh, zone_of)}

    @app.get("/v1/feature-groups/<name>")
    @app.doc(tags=TAGS, summary="A group's schema, freshness and users.", responses=[200, 404])
    def feature_group(name: str) -> dict[str, Any]:
        return describe_group(directory, name, fresh, zone_of)

    @app.get("/v1/features/<path:expression>")
    @app.doc(tags=TAGS, summary="A feature (@group:feature) and who uses it.", responses=[200, 400, 404])
    def feature(expression: str) -> dict[str, Any]:
        return describe_feature(directory, expression)

    one_at_a_time = threading.Lock()

    @app.post("/v1/feature-groups")
    @callers("data_processing", OPERATOR)  # an administrator's call (or the service's own register-groups)
    @body_limit(REGISTRATION_BODY_LIMIT)
    @app.input(RegisterIn, arg_name="body")
    @app.doc(
        tags=TAGS,
        summary="Register a feature group (YAML + code). One registration at a time per process (429 + Retry-After "
        "while another runs): this process also serves ETD quotes.",
        responses=[200, 201, 400, 409, 413, 429],
    )
    def register(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        if not one_at_a_time.acquire(blocking=False):
            raise TooManyRequests("another feature-group registration is running; try again", retry_after=1)
        try:
            plan = _register(directory, groups_dir, body, clock())
        finally:
            one_at_a_time.release()
        return registration_summary(plan), 201 if plan.changed else 200


def _register(directory: FeatureDirectory, groups_dir: Path, body: dict[str, Any], now: datetime) -> Any:
    if ("path" in body) == ("yaml" in body):
        raise RegistrationRefused("give either path, or yaml and code", field="path")
    if "yaml" in body:
        entities = load_entities(groups_dir)
        return register_group(directory, body["yaml"], body.get("code"), entities, origin=BODY, now=now)
    root = groups_dir.resolve()
    path = (root / body["path"]).resolve()
    if root not in path.parents or path.suffix not in {".yaml", ".yml"}:
        raise RegistrationRefused(f"path must be a .yaml file under {root.name}/", field="path")
    return register_group_file(directory, path, now=now)


def install_deprecation_header(
    app: APIFlask, endpoint: str, usage: UsageRecorder, consumer: Callable[[dict[str, Any]], str]
) -> None:
    """Responses of ``endpoint`` carry a ``Warning`` header per deprecated feature its consumer reads (``consumer``
    of the request's path parameters, e.g. the model named in the path)."""

    def warnings(path_args: dict[str, Any]) -> list[tuple[str, str]]:
        return [("Warning", '299 data_processing "{}"'.format(warning.replace('"', "'")))
                for warning in usage.warnings(consumer(path_args))]  # fmt: skip

    add_response_headers(app, endpoint, warnings)
