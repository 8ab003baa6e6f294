"""strata_kernel.access: a credential per calling deployable, checked before a view reads its request."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from apiflask import APIFlask
from flask.testing import FlaskClient

from strata_kernel.access import callers, public
from strata_kernel.contracts.auth import OPERATOR, CallerDirectory, service_credential, service_token_file
from strata_kernel.logs import caller_var
from strata_kernel.service import create_service_app
from tests.support import json_of


def _app(credentials: Path, operator: str | None = "op-token") -> APIFlask:
    app = create_service_app("demo", title="Demo", callers=CallerDirectory(credentials, operator=lambda: operator))
    seen: list[str] = []
    app.extensions["seen"] = seen

    @app.post("/quotes")
    @public
    def quote() -> dict[str, str]:
        return {"caller": caller_var.get()}

    @app.post("/internal")
    def internal() -> dict[str, str]:
        seen.append(caller_var.get())
        return {"caller": caller_var.get()}

    @app.post("/predict")
    @callers("data_processing", OPERATOR)
    def predict() -> dict[str, str]:
        return {"caller": caller_var.get()}

    @app.get("/tables")
    @callers("data_processing")
    def tables() -> dict[str, str]:
        return {"caller": caller_var.get()}

    @app.get("/status")
    def status() -> dict[str, str]:
        return {"status": "ok"}

    return app


@pytest.fixture
def credentials(tmp_path: Path) -> Path:
    return tmp_path / "credentials"


@pytest.fixture
def client(credentials: Path) -> FlaskClient:
    return _app(credentials).test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_deployable_credential_is_generated_once_and_private(credentials: Path) -> None:
    first = service_credential("data_processing", credentials)
    again = service_credential("data_processing", credentials)

    assert first == again and len(first.token) >= 32
    path = service_token_file(credentials, "data_processing")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o700
    assert first.token not in repr(first)
    assert service_credential("business_logic", credentials, configured="set-by-env").token == "set-by-env"
    with pytest.raises(ValueError, match="unknown service caller"):
        service_credential("attacker", credentials)


def test_mutating_calls_need_a_known_caller_and_say_who_called(client: FlaskClient, credentials: Path) -> None:
    as_lake = bearer(service_credential("data_lake", credentials).token)

    assert client.post("/internal").status_code == 401
    assert client.post("/internal", headers=bearer("guessed")).status_code == 403
    assert client.post("/internal", headers={"Authorization": "Basic abc"}).status_code == 401
    answer = client.post("/internal", headers=as_lake)
    assert answer.status_code == 200 and answer.json == {"caller": "data_lake"}
    assert client.post("/internal", headers=bearer("op-token")).json == {"caller": OPERATOR}


def test_a_view_accepts_only_its_callers_even_on_reads(client: FlaskClient, credentials: Path) -> None:
    as_ui = bearer(service_credential("ui", credentials).token)
    as_processing = bearer(service_credential("data_processing", credentials).token)

    refused = client.post("/predict", headers=as_ui)
    assert refused.status_code == 403 and "ui may not call POST /predict" in json_of(refused)["error"]["message"]
    assert client.post("/predict", headers=as_processing).json == {"caller": "data_processing"}
    assert client.get("/tables").status_code == 401
    assert client.get("/tables", headers=as_processing).status_code == 200
    assert client.get("/status").status_code == 200  # an ordinary read stays open
    assert client.post("/quotes").json == {"caller": "-"}  # public by design


def test_refusals_happen_before_the_body_is_read_and_are_counted(client: FlaskClient) -> None:
    client.post("/internal", data=b"{not json", content_type="application/json")
    client.post("/internal", headers=bearer("guessed"), json={})
    client.post("/predict", json={})

    metrics = client.get("/metrics").get_data(as_text=True)

    assert 'strata_demo_http_refused_total{endpoint="/internal",reason="unauthenticated"} 1.0' in metrics
    assert 'strata_demo_http_refused_total{endpoint="/internal",reason="forbidden"} 1.0' in metrics
    assert 'strata_demo_http_refused_total{endpoint="/predict",reason="unauthenticated"} 1.0' in metrics
    assert client.application.extensions["seen"] == []


def test_accepted_calls_are_counted_by_caller(client: FlaskClient, credentials: Path) -> None:
    client.post("/internal", headers=bearer(service_credential("comparative_eval", credentials).token))

    metrics = client.get("/metrics").get_data(as_text=True)

    assert 'strata_demo_http_calls_by_caller_total{caller="comparative_eval",endpoint="/internal"} 1.0' in metrics


def test_a_caller_file_created_after_start_is_accepted(credentials: Path) -> None:
    client = _app(credentials, operator=None).test_client()
    assert client.post("/internal", headers=bearer("late")).status_code == 403

    path = service_token_file(credentials, "data_collection")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("late\n")

    assert client.post("/internal", headers=bearer("late")).json == {"caller": "data_collection"}


def test_the_openapi_document_marks_what_needs_a_credential(client: FlaskClient) -> None:
    spec = json_of(client.get("/openapi.json"))

    assert spec["components"]["securitySchemes"]["ServiceCredential"] == {"type": "http", "scheme": "bearer"}
    assert spec["paths"]["/internal"]["post"]["security"] == [{"ServiceCredential": []}]
    assert {"401", "403"} <= set(spec["paths"]["/tables"]["get"]["responses"])
    assert "security" not in spec["paths"]["/quotes"]["post"]
    assert "security" not in spec["paths"]["/status"]["get"]
