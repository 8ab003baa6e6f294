"""The operator's deployment API, producer -> consumer: the CLI's real client (``strata_cli.operator``) talks to the
real comparative_eval app (httpx's WSGI transport carries the bytes); every body each side sends is the contract's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from comparative_eval.entrypoints import schemas
from comparative_eval.entrypoints.app import create_app
from strata_cli.operator import DeploymentsClient
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
from tests.comparative_eval.fakes import FakeClock, FakeEngine
from tests.comparative_eval.test_ce_api import TOKEN, settings_for


def test_what_the_cli_asks_is_what_comparative_eval_applies_and_its_records_are_what_the_cli_reads(
    tmp_path: Path,
) -> None:
    app = create_app(settings_for(tmp_path), engine=FakeEngine(), clock=FakeClock())
    sent: list[tuple[str, Any]] = []

    def comparative_eval(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            sent.append((request.url.path.rsplit("/", 1)[-1], json.loads(request.content)))
        return httpx.WSGITransport(app=app).handle_request(request)

    with DeploymentsClient("http://ce", token=TOKEN, transport=httpx.MockTransport(comparative_eval)) as cli:
        answers = [
            cli.deploy("etd", 1, "full", None, "first"),
            cli.deploy("etd", 2, "canary", 10, None),
            cli.canary("etd", 30, "more"),
            cli.shadow("etd", None, None),
            cli.promote("etd", full=True, reason="good", force=True),
            cli.rollback("etd", node=None, reason="late", to_version=1),
        ]
        history = cli.history("etd")

    parsers = {"deploy": DeployRequest, "canary": CanaryRequest, "shadow": ShadowRequest, "promote": PromoteRequest,
               "rollback": RollbackRequest}  # fmt: skip
    asked = [parsers[action].from_wire(body) for action, body in sent]  # type: ignore[attr-defined]
    assert asked == [
        DeployRequest(1, "full", reason="first"),
        DeployRequest(2, "canary", 10),
        CanaryRequest(30, "more"),
        ShadowRequest(),
        PromoteRequest(full=True, force=True, reason="good"),
        RollbackRequest(to_version=1, reason="late"),
    ]
    assert [body for _action, body in sent] == [request.to_wire() for request in asked]
    changes = [ChangeAnswer.from_wire(answer) for answer in answers]
    assert [change.to_wire() for change in changes] == answers  # nothing in an answer the contract does not name
    assert [(c.record.revision, c.record.action, c.record.mode, c.record.stable_version, c.record.candidate_version,
             c.record.weight) for c in changes] == [
        (1, "deploy", "full", "1", None, 100),
        (2, "deploy", "canary", "1", "2", 10),
        (3, "canary", "canary", "1", "2", 30),
        (4, "shadow", "shadow", "1", "2", 0),
        (5, "promote", "full", "2", None, 100),
        (6, "rollback", "full", "1", None, 100),
    ]  # fmt: skip
    reasons = [c.record.reason for c in changes]
    assert reasons[:4] + reasons[5:] == ["first", "", "more", "", "late"]
    assert reasons[4].startswith("[forced over analysis verdict hold") and reasons[4].endswith("] good")
    assert [RecordAnswer.from_wire(record) for record in history] == [c.record for c in reversed(changes)]


@pytest.mark.parametrize(
    ("schema", "wire_type"),
    [
        (schemas.DeployIn, DeployRequest),
        (schemas.CanaryIn, CanaryRequest),
        (schemas.ShadowIn, ShadowRequest),
        (schemas.PromoteIn, PromoteRequest),
        (schemas.RollbackIn, RollbackRequest),
        (schemas.RecordOut, RecordAnswer),
        (schemas.ChangeOut, ChangeAnswer),
    ],
)
def test_comparative_evals_routes_document_the_contracts_fields(schema: type, wire_type: type) -> None:
    assert set(schema().fields) == set(wire_type.FIELDS)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("wire_type", "body", "field"),
    [
        (CanaryRequest, {"reason": "no weight"}, "weight"),
        (DeployRequest, {"version": 2, "mode": "canary", "weight": 101}, "weight"),
        (PromoteRequest, {"full": "yes"}, "full"),
        (RollbackRequest, {"node": 7}, "node"),
        (RecordAnswer, {"model": "etd", "revision": "1", "stable_version": "1", "mode": "full", "weight": 100},
         "revision"),
    ],
)  # fmt: skip
def test_a_body_that_breaks_the_contract_is_a_400_naming_the_field(
    wire_type: type, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(BadRequest) as refused:
        wire_type.from_wire(body)  # type: ignore[attr-defined]
    assert refused.value.status == 400 and refused.value.field == field
