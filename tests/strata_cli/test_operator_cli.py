"""`strata deploy | canary | shadow | promote | rollback | history | status MODEL` against a fake comparative_eval.

The fake speaks the deployment API of docs/contracts.md over real HTTP (werkzeug on a free port); the CLI runs
as an operator would run it (typer), reading its settings from the environment.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote

import pytest
from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from rich.console import RenderableType
from typer.testing import CliRunner

from strata_cli import monitoring_stack, operator
from strata_cli.main import app
from strata_cli.settings import Settings
from strata_cli.topology import services, sidecars
from tests.support import free_port, free_port_run, serve

TOKEN = "op-s3cret"
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _error(status: int, code: str, message: str) -> ResponseReturnValue:
    return jsonify({"error": {"code": code, "message": message}}), status


class FakeComparativeEval:
    """Keeps records per model (append-only), answers like the real service, and remembers every request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.records: dict[str, list[dict[str, Any]]] = {
            "etd": [self._record("etd", 1, stable=3, candidate=None, mode="full", weight=0, reason="initial")]
        }
        self.analysis: dict[str, dict[str, Any]] = {}
        self.fail_with: tuple[int, str, str] | None = None  # force an error answer
        self.engine_down = False  # changes are recorded but not pushed to the engine
        self.url = ""  # where the test serves it
        self.app = self._build()

    def _record(self, model: str, revision: int, *, stable: int, candidate: int | None, mode: str, weight: int,
                reason: str | None, pins: dict[str, int] | None = None, step: int = 0) -> dict[str, Any]:  # fmt: skip
        return {"revision": revision, "model": model, "stable_version": stable, "candidate_version": candidate,
                "mode": mode, "weight": weight, "node_pins": pins or {}, "step": step, "actor": "operator",
                "reason": reason, "created_at": (START + timedelta(minutes=revision)).isoformat()}  # fmt: skip

    def current(self, model: str) -> dict[str, Any]:
        return self.records[model][-1]

    def change(self, model: str, **fields: Any) -> dict[str, Any]:
        latest = self.current(model)
        record = self._record(
            model, latest["revision"] + 1, stable=fields.get("stable", latest["stable_version"]),
            candidate=fields.get("candidate", latest["candidate_version"]), mode=fields.get("mode", latest["mode"]),
            weight=fields.get("weight", latest["weight"]), reason=fields.get("reason"),
            pins=fields.get("pins", latest["node_pins"]), step=fields.get("step", latest["step"]),
        )  # fmt: skip
        self.records[model].append(record)
        return record

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)

    def _build(self) -> Flask:
        app = Flask("fake_comparative_eval")

        @app.before_request
        def remember() -> ResponseReturnValue | None:
            self.requests.append(
                {"method": request.method, "path": request.full_path.rstrip("?"),
                 "authorization": request.headers.get("Authorization"), "body": request.get_json(silent=True)}
            )  # fmt: skip
            if self.fail_with:
                return _error(*self.fail_with)
            if request.method == "POST":
                auth = request.headers.get("Authorization")
                if not auth:
                    return _error(401, "unauthorized", "operator token required (Authorization: Bearer)")
                if auth != f"Bearer {TOKEN}":
                    return _error(403, "forbidden", "operator token not accepted")
            model = (request.view_args or {}).get("model")
            if model is not None and model not in self.records and not request.path.endswith("/deploy"):
                return _error(404, "unknown_deployment", f"no deployment of model {model}")
            return None

        @app.get("/readyz")
        def readyz() -> ResponseReturnValue:
            return jsonify({"status": "ready"})

        @app.get("/v1/deployments")
        def deployments() -> ResponseReturnValue:
            return jsonify({"deployments": [records[-1] for records in self.records.values()]})

        @app.get("/v1/deployments/<model>")
        def deployment(model: str) -> ResponseReturnValue:
            return jsonify({"record": self.current(model), "analysis": self.analysis.get(model)})

        @app.get("/v1/deployments/<model>/history")
        def history(model: str) -> ResponseReturnValue:
            records = list(reversed(self.records[model]))
            at = request.args.get("at")
            if at:
                when = datetime.fromisoformat(at)
                records = [r for r in records if datetime.fromisoformat(r["created_at"]) <= when][:1]
            return jsonify({"records": records})

        @app.post("/v1/deployments/<model>/deploy")
        def deploy(model: str) -> ResponseReturnValue:
            body = request.get_json()
            if body["version"] == 99:
                return _error(422, "validation_failed", "etd v99: feature order__tip is not in the serving schema")
            if model not in self.records:
                return _error(404, "unknown_model", f"no registered model named {model}")
            if self.current(model)["candidate_version"] is not None:
                return _error(409, "candidate_in_progress", f"{model} already has a candidate; promote or roll back")
            mode = body["mode"]
            return jsonify(self.change(model, candidate=body["version"], mode=mode, weight=body.get("weight", 0),
                                       reason=body.get("reason"), step=0)), 201  # fmt: skip

        @app.post("/v1/deployments/<model>/canary")
        def canary(model: str) -> ResponseReturnValue:
            body = request.get_json()
            record = self.change(model, mode="canary", weight=body["weight"], reason=body.get("reason"))
            pushed = {"pushed": False, "push_reason": "inference_engine unavailable: connection refused"}
            return jsonify({**record, **(pushed if self.engine_down else {"pushed": True, "push_reason": None})}), 201

        @app.post("/v1/deployments/<model>/shadow")
        def shadow(model: str) -> ResponseReturnValue:
            body = request.get_json()
            candidate = body.get("version", self.current(model)["candidate_version"])
            return jsonify(self.change(model, mode="shadow", candidate=candidate, weight=0)), 201

        @app.post("/v1/deployments/<model>/promote")
        def promote(model: str) -> ResponseReturnValue:
            body = request.get_json()
            latest = self.current(model)
            if body.get("full"):
                record = self.change(model, stable=latest["candidate_version"], candidate=None, mode="full",
                                     weight=0, reason=body.get("reason"))  # fmt: skip
            else:
                record = self.change(model, weight=min(100, latest["weight"] * 5), step=latest["step"] + 1)
            return jsonify(record), 201

        @app.post("/v1/deployments/<model>/rollback")
        def rollback(model: str) -> ResponseReturnValue:
            body = request.get_json()
            if body.get("node"):
                pins = {**self.current(model)["node_pins"], body["node"]: self.current(model)["stable_version"]}
                return jsonify(self.change(model, pins=pins, reason=body.get("reason"))), 201
            if body.get("to_version") is not None:  # the service checks it served as stable before: not faked
                record = self.change(model, stable=body["to_version"], candidate=None, mode="full", weight=0,
                                     reason=body.get("reason"))  # fmt: skip
                return jsonify(record), 201
            return jsonify(self.change(model, candidate=None, mode="full", weight=0, reason=body.get("reason"))), 201

        return app


def canary_analysis() -> dict[str, Any]:
    return {
        "verdict": "rollback",
        "reasons": ["candidate MAE 9.81 is 48% above stable's 6.62 (limit +10%)", "p = 0.0003 < 0.01 (Mann-Whitney)"],
        "metrics": {
            "stable": {"samples": 1890, "mae": 6.62, "error_rate": 0.0, "p99_ms": 12.5, "helpful_rate": None},
            "candidate": {"samples": 101, "mae": 9.81, "error_rate": 0.0, "p99_ms": 13.1, "helpful_rate": None},
        },
        "tests": {
            "mae": {
                "outcome": "fail",
                "test": "mann_whitney",
                "p_value": 0.0003,
                "detail": "mae: candidate 9.81 vs stable 6.62 min (tolerance 5% worse, p=0.0003)",
            },
            "latency_p99": {"outcome": "pass", "ratio": 1.05},
        },
        "at": "2025-03-01T12:09:30+00:00",
    }


# ---------------------------------------------------------------------------------------------- tests

runner = CliRunner()


@pytest.fixture
def fake() -> Iterator[FakeComparativeEval]:
    ce = FakeComparativeEval()
    server, url = serve(ce)
    ce.url = url
    try:
        yield ce
    finally:
        server.shutdown()


def _closed_port_url() -> str:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


#: no inference engine answers here unless a test serves one: `history` then says provenance is not shown
CLOSED_ENGINE = f"http://127.0.0.1:{free_port()}"


def _strata(
    url: str, tmp_path: Path, *args: str, token: str | None = TOKEN, engine: str = CLOSED_ENGINE
) -> tuple[int, str]:
    env = {"STRATA_COMPARATIVE_EVAL_URL": url, "STRATA_VAR_DIR": str(tmp_path / "var"), "COLUMNS": "200",
           "STRATA_OPERATOR_TOKEN": token, "STRATA_INFERENCE_ENGINE_URL": engine}  # fmt: skip
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def _posts(fake: FakeComparativeEval) -> list[dict[str, Any]]:
    return [r for r in fake.requests if r["method"] == "POST"]


def test_deploy_sends_the_version_as_a_canary_with_the_bearer_token_and_shows_the_new_record(
    fake: FakeComparativeEval, tmp_path: Path
) -> None:
    code, output = _strata(fake.url, tmp_path, "deploy", "etd", "--version", "4", "--reason", "weekly retrain")

    assert code == 0, output
    assert _posts(fake) == [
        {"method": "POST", "path": "/v1/deployments/etd/deploy", "authorization": f"Bearer {TOKEN}",
         "body": {"version": 4, "mode": "canary", "weight": 5, "reason": "weekly retrain"}}
    ]  # fmt: skip
    assert "✓ etd v4 passed validation and is deployed: canary 5%" in output
    row = next(line for line in output.splitlines() if "│ etd" in line)
    assert "v3" in row and "v4" in row and "canary" in row and "5%" in row and "2025-03-01 12:02:00" in row


def test_deploy_in_shadow_or_full_sends_no_weight(fake: FakeComparativeEval, tmp_path: Path) -> None:
    code, output = _strata(fake.url, tmp_path, "deploy", "etd", "--version", "4", "--mode", "shadow")

    assert code == 0, output
    assert _posts(fake)[0]["body"] == {"version": 4, "mode": "shadow"}
    assert "deployed: shadow" in output


def test_the_token_comes_from_comparative_evals_file_when_the_setting_is_unset(
    fake: FakeComparativeEval, tmp_path: Path
) -> None:
    token_file = tmp_path / "var" / "comparative_eval" / "operator_token"
    token_file.parent.mkdir(parents=True)
    token_file.write_text(TOKEN + "\n")

    code, output = _strata(fake.url, tmp_path, "canary", "etd", "--weight", "25", token=None)

    assert code == 0, output
    assert _posts(fake)[0]["authorization"] == f"Bearer {TOKEN}"
    assert _posts(fake)[0]["body"] == {"weight": 25}


def test_a_missing_token_is_one_line_exit_2_and_nothing_is_sent(fake: FakeComparativeEval, tmp_path: Path) -> None:
    code, output = _strata(fake.url, tmp_path, "promote", "etd", token=None)

    assert code == 2
    token_file = tmp_path / "var" / "comparative_eval" / "operator_token"
    assert output.strip() == f"error: no operator token: set STRATA_OPERATOR_TOKEN or write it to {token_file}"
    assert fake.requests == []


@pytest.mark.parametrize(
    ("args", "token", "message"),
    [
        (["deploy", "etd", "--version", "99"], TOKEN, "etd v99: feature order__tip is not in the serving schema"),
        (["promote", "etd"], "wrong", "operator token not accepted"),
        (["rollback", "churn"], TOKEN, "no deployment of model churn"),
        (["status", "churn"], TOKEN, "no deployment of model churn"),
    ],
    ids=["422-validation-failed", "403-bad-token", "404-rollback", "404-status"],
)
def test_a_refusal_shows_the_servers_message_in_one_line_and_exits_2(
    fake: FakeComparativeEval, tmp_path: Path, args: list[str], token: str, message: str
) -> None:
    code, output = _strata(fake.url, tmp_path, *args, token=token)

    assert code == 2
    assert output.strip() == f"error: {message}"


def test_a_second_candidate_is_a_conflict_and_the_record_stays(fake: FakeComparativeEval, tmp_path: Path) -> None:
    assert _strata(fake.url, tmp_path, "deploy", "etd", "--version", "4")[0] == 0
    code, output = _strata(fake.url, tmp_path, "deploy", "etd", "--version", "5")

    assert code == 2
    assert output.strip() == "error: etd already has a candidate; promote or roll back"
    assert fake.current("etd")["candidate_version"] == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["deploy", "etd"], "--version is required (a registered version >= 1)"),
        (
            ["deploy", "etd", "--version", "4", "--mode", "blue"],
            "--mode must be one of canary, shadow, full, got 'blue'",
        ),
        (["deploy", "etd", "--version", "4", "--weight", "101"], "--weight must be between 0 and 100, got 101"),
        (["canary", "etd"], "--weight is required (0..100)"),
        (["canary", "etd", "--weight", "-5"], "--weight must be between 0 and 100, got -5"),
        (["history", "etd", "--at", "yesterday"], "--at must be an ISO-8601 time, got 'yesterday'"),
        (["history", "etd", "--limit", "0"], "--limit must be >= 1"),
        (["status", "etd", "--watch", "--interval", "0"], "--interval must be > 0 seconds"),
        (["rollback", "etd", "--to-version", "0"], "--to-version takes a version >= 1, and not together with --node"),
        (
            ["rollback", "etd", "--to-version", "2", "--node", "country_code=NL"],
            "--to-version takes a version >= 1, and not together with --node",
        ),
    ],
)
def test_bad_options_are_refused_before_any_request(
    fake: FakeComparativeEval, tmp_path: Path, args: list[str], message: str
) -> None:
    code, output = _strata(fake.url, tmp_path, *args)

    assert (code, output.strip()) == (2, f"error: {message}")
    assert fake.requests == []


@pytest.mark.parametrize("args", [["status", "etd"], ["deploy", "etd", "--version", "4"], ["history", "etd"]])
def test_an_unreachable_comparative_eval_exits_1_with_one_line_naming_the_url(tmp_path: Path, args: list[str]) -> None:
    url = _closed_port_url()
    code, output = _strata(url, tmp_path, *args)

    assert code == 1
    assert output.strip() == f"error: comparative_eval unavailable: connection refused ({url})"


def test_a_server_error_exits_1(fake: FakeComparativeEval, tmp_path: Path) -> None:
    fake.fail_with = (500, "internal_error", "internal error (request abc)")

    assert _strata(fake.url, tmp_path, "promote", "etd") == (1, "error: internal error (request abc)\n")


def test_promote_full_and_node_rollback_send_what_the_operator_asked(fake: FakeComparativeEval, tmp_path: Path) -> None:
    _strata(fake.url, tmp_path, "deploy", "etd", "--version", "4")
    code, output = _strata(fake.url, tmp_path, "promote", "etd", "--full", "--reason", "clean canary")
    assert code == 0, output
    assert "✓ etd v4 is stable and serves 100%" in output

    code, output = _strata(fake.url, tmp_path, "rollback", "etd", "--node", "country_code=NL", "--reason", "NL worse")
    assert code == 0, output
    assert "✓ etd node country_code=NL pinned to v4" in output
    assert [p["body"] for p in _posts(fake)[1:]] == [
        {"full": True, "reason": "clean canary"},
        {"node": "country_code=NL", "reason": "NL worse"},
    ]


def test_rollback_to_version_sends_it_and_says_which_version_serves(fake: FakeComparativeEval, tmp_path: Path) -> None:
    code, output = _strata(fake.url, tmp_path, "rollback", "etd", "--to-version", "2", "--reason", "v3 misroutes")

    assert code == 0, output
    assert "✓ etd rolled back: v2 serves 100%" in output
    assert _posts(fake)[-1]["body"] == {"to_version": 2, "reason": "v3 misroutes"}


def test_a_rollback_and_a_shadow_say_who_serves(fake: FakeComparativeEval, tmp_path: Path) -> None:
    _strata(fake.url, tmp_path, "deploy", "etd", "--version", "4")
    code, output = _strata(fake.url, tmp_path, "rollback", "etd")
    assert code == 0, output
    assert "✓ etd rolled back: v3 serves 100%" in output
    assert _posts(fake)[-1]["body"] == {}

    code, output = _strata(fake.url, tmp_path, "shadow", "etd", "--version", "5")
    assert code == 0, output
    assert "✓ etd candidate v5 runs in shadow" in output


def test_status_of_a_model_shows_versions_split_metrics_per_route_and_the_verdict(
    fake: FakeComparativeEval, tmp_path: Path
) -> None:
    _strata(fake.url, tmp_path, "deploy", "etd", "--version", "4", "--weight", "20")
    fake.analysis["etd"] = operator_analysis = canary_analysis()

    code, output = _strata(fake.url, tmp_path, "status", "etd", token=None)  # reading needs no token

    assert code == 0, output
    lines = output.splitlines()
    record = next(line for line in lines if "│ etd" in line)
    assert all(text in record for text in ("v3", "v4", "canary", "20%", "2"))
    header = next(line for line in lines if "┃ route" in line)
    assert header.index("samples") < header.index("error_rate") < header.index("mae") < header.index("p99_ms")
    stable = next(line for line in lines if "│ stable" in line)
    candidate = next(line for line in lines if "│ candidate" in line)
    assert "1890" in stable and "6.62" in stable and "101" in candidate and "9.81" in candidate
    assert "verdict: rollback (at 2025-03-01 12:09:30)" in output
    for reason in operator_analysis["reasons"]:
        assert f"  - {reason}" in output
    assert "test mae: fail  mae: candidate 9.81 vs stable 6.62 min (tolerance 5% worse, p=0.0003)" in output
    assert "test latency_p99: pass  ratio=1.05" in output
    assert "helpful_rate" not in output  # no route has a value for it
    assert fake.requests[-1]["authorization"] is None


def test_status_of_a_model_without_analysis_says_so(fake: FakeComparativeEval, tmp_path: Path) -> None:
    code, output = _strata(fake.url, tmp_path, "status", "etd")

    assert code == 0, output
    assert "analysis: no verdict yet" in output and "Live metrics" not in output


def test_status_watch_refreshes_until_its_iterations_are_done(fake: FakeComparativeEval, tmp_path: Path) -> None:
    code, output = _strata(fake.url, tmp_path, "status", "etd", "--watch", "--interval", "0.01", "--iterations", "3")

    assert code == 0, output
    assert [r["path"] for r in fake.requests] == ["/v1/deployments/etd"] * 3
    assert "Deployment of etd" in output


def test_watch_ends_cleanly_on_ctrl_c() -> None:
    frames: list[int] = []

    def render() -> RenderableType:
        frames.append(len(frames))
        if len(frames) == 3:
            raise KeyboardInterrupt
        return f"frame {len(frames)}"

    operator.watch(render, interval=0.001, iterations=None)  # returns: no exception, no exit code

    assert frames == [0, 1, 2]


def test_watch_keeps_going_when_comparative_eval_drops_out(fake: FakeComparativeEval, tmp_path: Path) -> None:
    fake.fail_with = None
    original = fake.app.view_functions["deployment"]
    calls = []

    def flaky(model: str) -> ResponseReturnValue:
        calls.append(model)
        if len(calls) == 2:
            return _error(503, "unavailable", "database is locked")
        return cast(ResponseReturnValue, original(model))

    fake.app.view_functions["deployment"] = flaky
    code, output = _strata(fake.url, tmp_path, "status", "etd", "--watch", "--interval", "0.01", "--iterations", "3")

    assert code == 0, output
    assert len(calls) == 3


def test_history_lists_records_newest_first_and_honours_limit_and_at(fake: FakeComparativeEval, tmp_path: Path) -> None:
    for args in (["deploy", "etd", "--version", "4"], ["canary", "etd", "--weight", "25"], ["rollback", "etd"]):
        assert _strata(fake.url, tmp_path, *args)[0] == 0

    code, output = _strata(fake.url, tmp_path, "history", "etd", "--limit", "3")
    assert code == 0, output
    revisions = [line.split("│")[1].strip() for line in output.splitlines() if line.startswith("│ ")]
    assert revisions == ["4", "3", "2"]
    assert "canary 25%" in output and "operator" in output

    at = "2025-03-01T12:02:30+00:00"
    code, output = _strata(fake.url, tmp_path, "history", "etd", "--at", at)
    assert code == 0, output
    assert unquote(fake.requests[-1]["path"]) == f"/v1/deployments/etd/history?at={at}"
    assert f"etd: record in force at {at}" in output
    assert [line.split("│")[1].strip() for line in output.splitlines() if line.startswith("│ ")] == ["2"]


def test_history_shows_what_each_deployed_version_was_built_from(fake: FakeComparativeEval, tmp_path: Path) -> None:
    from tests.strata_cli.tree_sample import FakeInferenceEngine

    assert _strata(fake.url, tmp_path, "deploy", "etd", "--version", "3")[0] == 0
    engine, engine_url = serve(FakeInferenceEngine())
    try:
        code, output = _strata(fake.url, tmp_path, "history", "etd", engine=engine_url)
    finally:
        engine.shutdown()

    assert code == 0, output
    assert "etd: what each version was built from" in output
    row = next(line for line in output.splitlines() if line.startswith("│ v3 "))
    for shown in ("4f2a9c1e00", "ab12ab12ab12", "processed.etd_training_set@v4", "xgboost 3.1.2", "numpy 2.3.5"):
        assert shown in row
    code, output = _strata(fake.url, tmp_path, "history", "etd")  # no engine: the records alone, and why
    assert code == 0 and "what each version was built from is not shown" in output


def test_status_without_a_model_keeps_the_process_table_and_adds_the_deployments(
    fake: FakeComparativeEval, tmp_path: Path
) -> None:
    down = _closed_port_url()
    env = {f"STRATA_{name.upper()}_URL": down for name in
           ("ui", "business_logic", "data_processing", "inference_engine", "data_lake", "data_collection")}  # fmt: skip
    env |= {"STRATA_COMPARATIVE_EVAL_URL": fake.url, "STRATA_VAR_DIR": str(tmp_path), "COLUMNS": "200"}
    result = runner.invoke(app, ["status"], env=env)

    assert result.exit_code == 1  # processes are down: the old meaning of the exit code stays
    process_rows = [line.split("│")[1].strip() for line in result.output.splitlines() if down in line]
    assert process_rows[:2] == ["data_lake", "inference_engine"]
    assert any(line.startswith("│ comparative_eval") and "ready" in line for line in result.output.splitlines())
    assert any(line.startswith("│ comparative_eval_sidecar") for line in result.output.splitlines())
    assert "Deployments" in result.output
    assert any("│ etd" in line and "full" in line and "v3" in line for line in result.output.splitlines())


def test_status_without_a_model_notes_when_deployments_cannot_be_shown(
    fake: FakeComparativeEval, tmp_path: Path
) -> None:
    down = _closed_port_url()
    env = {"STRATA_COMPARATIVE_EVAL_URL": down, "STRATA_DATA_LAKE_URL": down, "STRATA_VAR_DIR": str(tmp_path),
           "STRATA_UI_URL": fake.url, "COLUMNS": "300"}  # fmt: skip  # one process answers: the platform is up
    result = runner.invoke(app, ["status"], env=env)

    assert result.exit_code == 1
    assert f"deployments: not shown (comparative_eval unavailable: connection refused ({down}))" in result.output


def test_status_with_the_platform_down_says_so_in_one_line(tmp_path: Path) -> None:
    down = _closed_port_url()
    names = ("ui", "business_logic", "data_processing", "inference_engine", "data_lake", "data_collection",
             "comparative_eval", "help_centre", "prometheus", "alertmanager")  # fmt: skip
    env = {f"STRATA_{name.upper()}_URL": down for name in names}
    env |= {"STRATA_SIDECAR_BASE_PORT": str(free_port_run(13)), "STRATA_VAR_DIR": str(tmp_path), "COLUMNS": "300"}
    result = runner.invoke(app, ["status"], env=env)

    processes = 18 if monitoring_stack.missing_binaries() else 20  # + Prometheus and Alertmanager where installed
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: Strata is not running: none of its {processes} processes answers (ui {down}); start it with `make run`"
    ]


def test_sidecar_ports_follow_the_numbering_of_prometheus_yml_and_compose() -> None:
    settings = Settings(comparative_eval_url="http://127.0.0.1:8006")

    ports = {s.name: s.port for s in sidecars(settings)}

    # service 800N -> sidecar 910N, the stream worker (8012) -> 9112: what prometheus.yml scrapes
    prometheus = (Path(__file__).parents[2] / "monitoring" / "prometheus" / "prometheus.yml").read_text()
    for name, port in ports.items():
        if name != "help_centre_sidecar":  # the demo's static site has no sidecar in the compose deployment
            assert f'{name.removesuffix("_sidecar").replace("_", "-")}:{port}"' in prometheus, name
    assert ports["ui_sidecar"] == 9100 and ports["data_processing_stream_sidecar"] == 9112
    service = next(s for s in services(settings) if s.name == "comparative_eval")
    assert service.command()[1:] == ["-m", "comparative_eval", "serve", "--host", "127.0.0.1", "--port", "8006",
                                     "--workers", "1"]  # fmt: skip


def test_a_change_the_engine_did_not_take_yet_says_it_will_converge(fake: FakeComparativeEval, tmp_path: Path) -> None:
    _strata(fake.url, tmp_path, "deploy", "etd", "--version", "4")
    fake.engine_down = True

    code, output = _strata(fake.url, tmp_path, "canary", "etd", "--weight", "50")

    assert code == 0, output
    assert "✓ etd candidate v4 now takes 50%" in output
    assert "the inference engine was not updated now (inference_engine unavailable: connection refused)" in output
    fake.engine_down = False
    assert "not updated" not in _strata(fake.url, tmp_path, "canary", "etd", "--weight", "60")[1]


def test_text_from_the_service_is_shown_literally_not_as_console_markup(
    fake: FakeComparativeEval, tmp_path: Path
) -> None:
    code, _ = _strata(fake.url, tmp_path, "rollback", "etd", "--reason", "[bold red]boom[/bold red] [link=x]y[/link]")
    assert code == 0
    fake.analysis["etd"] = {"verdict": "[blink]hold", "reasons": ["[red]not enough[/red]"], "metrics": {}, "at": None}

    code, output = _strata(fake.url, tmp_path, "history", "etd")
    assert code == 0, output
    assert "[bold red]boom[/bold red]" in output

    code, output = _strata(fake.url, tmp_path, "status", "etd")
    assert code == 0, output
    assert "verdict: [blink]hold" in output and "  - [red]not enough[/red]" in output


def test_a_bad_setting_is_one_line_exit_2(tmp_path: Path) -> None:
    env = {"STRATA_OPERATOR_TIMEOUT_SECONDS": "soon", "STRATA_VAR_DIR": str(tmp_path), "STRATA_OPERATOR_TOKEN": TOKEN}
    result = runner.invoke(app, ["promote", "etd"], env=env)

    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: settings: operator_timeout_seconds: Input should be a valid number, unable to parse string as a number"
    ]
