"""HTTP API of comparative_eval (docs/contracts.md, "Comparative evaluation"): deployments as data."""

from __future__ import annotations

import atexit
from typing import Any

from apiflask import APIFlask

from comparative_eval.bootstrap import Dependencies, bootstrap
from comparative_eval.domain.deployment import DeploymentRecord
from comparative_eval.domain.events import parse_time
from comparative_eval.domain.verdicts import Verdict
from comparative_eval.entrypoints import schemas as s
from comparative_eval.errors import NoAnalysis
from comparative_eval.metrics import COMPONENT
from comparative_eval.services import ChangeResult
from comparative_eval.settings import Settings
from strata_kernel import background
from strata_kernel.access import callers
from strata_kernel.contracts.auth import OPERATOR
from strata_kernel.contracts.deployment_api import (
    CanaryRequest,
    ChangeAnswer,
    DeployRequest,
    PromoteRequest,
    RecordAnswer,
    RollbackRequest,
    ShadowRequest,
)
from strata_kernel.errors import BadRequest
from strata_kernel.logs import configure_logging
from strata_kernel.service import create_service_app


def create_app(settings: Settings | None = None, **overrides: Any) -> APIFlask:
    """Build the app. ``overrides`` go to :func:`comparative_eval.bootstrap.bootstrap` (uow_factory, engine, locks,
    templates, sample_files, clock, event_log). The consumer and analysis threads start when
    ``analysis_in_service``."""
    settings = settings or Settings()
    configure_logging(COMPONENT, settings.log_level, settings.log_json)
    app = create_service_app(
        COMPONENT,
        title="Strata comparative evaluation",
        description="Deployment records per model (full, shadow, canary), their analysis against the stable "
        "version on live traffic, automatic promotion and rollback.",
        callers=settings.caller_directory(),
    )
    deps = bootstrap(settings, registry=app.extensions["strata.registry"], **overrides)
    deps.build("templates", "operator_token", "deployments", "analysis")
    app.extensions["comparative_eval.deps"] = deps
    _register_routes(app, deps)
    if settings.analysis_in_service:  # started after the fork by the server (strata_kernel.background)
        for loop in deps.background_loops():
            background.register(app, loop)
            deps.on_close(loop.stop)  # the loops stop before the database and clients close
    atexit.register(deps.close)
    return app


def _answer(record: DeploymentRecord) -> RecordAnswer:
    return RecordAnswer(
        **record.routing(),  # versions as the routing record carries them (strings)
        action=record.action,
        step=record.step,
        actor=record.actor,
        reason=record.reason,
        created_at=None if record.created_at is None else record.created_at.isoformat() + "Z",
    )


def _record(record: DeploymentRecord) -> dict[str, Any]:
    return _answer(record).to_wire()


def _change(result: ChangeResult) -> dict[str, Any]:
    return ChangeAnswer(_answer(result.record), result.pushed, result.push_reason).to_wire()


def _verdict(verdict: Verdict) -> dict[str, Any]:
    body = verdict.to_dict()
    body["tests"] = _json_safe(body["tests"])
    return body


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return None
    return value


def _register_routes(app: APIFlask, deps: Dependencies) -> None:
    service, analysis = deps.deployments, deps.analysis
    change_doc: dict[str, Any] = {"tags": ["changes"], "responses": [400, 401, 403, 404, 409]}
    validated_doc: dict[str, Any] = {**change_doc, "responses": [400, 401, 403, 404, 409, 422]}

    @app.get("/v1/deployments")
    @app.output(s.DeploymentListOut)
    @app.doc(tags=["deployments"], summary="The current record of every model.")
    def list_deployments() -> dict[str, Any]:
        return {"deployments": [_record(record) for record in service.all_current()]}

    @app.get("/v1/deployments/<model>")
    @app.output(s.StatusOut)
    @app.doc(tags=["deployments"], summary="A model's current record and latest analysis.", responses=[404])
    def status(model: str) -> dict[str, Any]:
        record = service.current(model)
        try:
            verdict: dict[str, Any] | None = _verdict(analysis.latest(model))
        except NoAnalysis:
            verdict = None
        return {"record": _record(record), "analysis": verdict}

    @app.get("/v1/deployments/<model>/routing")
    @app.output(s.RoutingOut)
    @app.doc(tags=["deployments"], summary="The routing the inference engine applies (it polls this).", responses=[404])
    def routing(model: str) -> dict[str, Any]:
        return service.current(model).routing()

    @app.get("/v1/deployments/<model>/history")
    @app.input(s.HistoryQuery, location="query", arg_name="query")
    @app.output(s.HistoryOut)
    @app.doc(
        tags=["deployments"], summary="Records newest first; with ?at= the one in force then.", responses=[400, 404]
    )
    def history(model: str, query: dict[str, Any]) -> dict[str, Any]:
        at = None
        if query["at"] is not None:
            try:
                at = parse_time(query["at"])
            except ValueError as exc:
                raise BadRequest(f"at: not an ISO-8601 time: {query['at']!r}", field="at") from exc
        return {"records": [_record(record) for record in service.history(model, at)]}

    @app.get("/v1/deployments/<model>/analysis")
    @app.output(s.VerdictOut)
    @app.doc(
        tags=["deployments"], summary="The latest verdict (judged now if the candidate has none yet).", responses=[404]
    )
    def latest_analysis(model: str) -> dict[str, Any]:
        return _verdict(analysis.latest(model))

    @app.post("/v1/deployments/<model>/deploy")
    @callers(OPERATOR)  # deployment changes are the operator's
    @app.input(s.DeployIn, arg_name="body")
    @app.output(s.ChangeOut, status_code=201)
    @app.doc(
        summary="Deploy a version (validated by the engine first; 422 validation_failed if refused).",
        **validated_doc,
    )
    def deploy(model: str, body: dict[str, Any]) -> dict[str, Any]:
        change = DeployRequest.from_wire(body)
        result = service.deploy(model, change.version, change.mode, change.weight, change.reason)
        return _change(result)

    @app.post("/v1/deployments/<model>/canary")
    @callers(OPERATOR)  # deployment changes are the operator's
    @app.input(s.CanaryIn, arg_name="body")
    @app.output(s.ChangeOut, status_code=201)
    @app.doc(summary="Set the candidate's canary weight.", **change_doc)
    def canary(model: str, body: dict[str, Any]) -> dict[str, Any]:
        change = CanaryRequest.from_wire(body)
        return _change(service.set_weight(model, change.weight, change.reason))

    @app.post("/v1/deployments/<model>/shadow")
    @callers(OPERATOR)  # deployment changes are the operator's
    @app.input(s.ShadowIn, arg_name="body")
    @app.output(s.ChangeOut, status_code=201)
    @app.doc(
        summary="Shadow the current candidate, or deploy a new one in shadow.",
        **validated_doc,
    )
    def shadow(model: str, body: dict[str, Any]) -> dict[str, Any]:
        change = ShadowRequest.from_wire(body)
        return _change(service.shadow(model, change.version, change.reason))

    @app.post("/v1/deployments/<model>/promote")
    @callers(OPERATOR)  # deployment changes are the operator's
    @app.input(s.PromoteIn, arg_name="body")
    @app.output(s.ChangeOut, status_code=201)
    @app.doc(
        summary="Next step of the template (full: straight to 100%, the candidate becomes stable); 409 against a "
        "hold or rollback verdict unless force.",
        **change_doc,
    )
    def promote(model: str, body: dict[str, Any]) -> dict[str, Any]:
        change = PromoteRequest.from_wire(body)
        try:  # what `status` shows is what a promote must respect
            judged: Verdict | None = analysis.latest(model)
        except NoAnalysis:
            judged = None
        return _change(service.promote(model, change.reason, full=change.full, force=change.force, judged=judged))

    @app.post("/v1/deployments/<model>/rollback")
    @callers(OPERATOR)  # deployment changes are the operator's
    @app.input(s.RollbackIn, arg_name="body")
    @app.output(s.ChangeOut, status_code=201)
    @app.doc(
        summary="Drop the candidate (stable at 100%); without one, back to the previous stable version; to_version: "
        "to a version that served as stable before; node: pin one node to the stable version.",
        **change_doc,
    )
    def rollback(model: str, body: dict[str, Any]) -> dict[str, Any]:
        change = RollbackRequest.from_wire(body)
        return _change(service.rollback(model, change.reason, node=change.node, to_version=change.to_version))
