"""The operator's side of comparative evaluation: deploy, canary, shadow, promote, roll back, watch and audit.

Every command talks to comparative_eval's HTTP API only (docs/contracts.md, "Comparative evaluation");
the service owns the deployment records, validates candidates and drives the inference engine's routing.
Mutating calls carry ``Authorization: Bearer <operator token>``: the ``operator_token`` setting
(``STRATA_OPERATOR_TOKEN``) or, when unset, the file ``<var_dir>/comparative_eval/operator_token``.

Failures are one red line: exit 2 for bad input (a bad option, or a 4xx answer such as 401/403/404/409/422, with
the server's message), exit 1 when comparative_eval cannot be reached (naming its URL) or fails on its side.

``strata status`` already meant "readiness of every process"; it keeps that meaning without an argument (and
adds the deployments table when comparative_eval answers), while ``strata status MODEL`` shows one model's
deployment: versions, split, live metrics per route and the analysis verdict with its reasons.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn
from urllib.parse import quote

import typer
from pydantic import ValidationError
from rich.console import Console, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.text import Text

from strata_cli.deployment_views import deployment_view, deployments_table, history_table, split_text, version_text
from strata_cli.provenance_view import VersionsUnavailable, fetch_versions, provenance_table
from strata_cli.settings import Settings
from strata_kernel.cli import BAD_INPUT, FAILURE
from strata_kernel.contracts.auth import operator_token_file, read_operator_token
from strata_kernel.contracts.deployment_api import (
    CanaryRequest,
    DeployRequest,
    PromoteRequest,
    RollbackRequest,
    ShadowRequest,
)
from strata_kernel.errors import StrataError
from strata_kernel.http import ServiceClient
from strata_kernel.settings import load_settings

if TYPE_CHECKING:
    import httpx  # only the type of an injected transport (tests)

MODES = ("canary", "shadow", "full")


def out() -> Console:
    """A console made per use: it sizes itself from the terminal (or ``COLUMNS``) of the running command."""
    return Console(highlight=False)


class OperatorError(Exception):
    """A command cannot go on: ``message`` is the one line the operator sees, ``exit_code`` 2 (input) or 1."""

    def __init__(self, message: str, exit_code: int = FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def fail(message: str, code: int = FAILURE) -> NoReturn:
    # soft_wrap: the reason stays one line whatever the terminal width
    Console(stderr=True, highlight=False).print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def one_line_errors() -> Iterator[None]:
    try:
        yield
    except OperatorError as exc:
        fail(exc.message, exc.exit_code)


# ---------------------------------------------------------------------------------------------- token + client


def token_file(settings: Settings) -> Path:
    return operator_token_file(settings.var_dir)


def read_token(settings: Settings) -> str | None:
    """The operator token from the setting, else from comparative_eval's token file; None when neither has one."""
    return read_operator_token(settings.operator_token, settings.var_dir)


def require_token(settings: Settings) -> str:
    token = read_token(settings)
    if token is None:
        raise OperatorError(
            f"no operator token: set STRATA_OPERATOR_TOKEN or write it to {token_file(settings)}", BAD_INPUT
        )
    return token


class DeploymentsClient:
    """comparative_eval's deployment API, one method per route; every failure becomes an :class:`OperatorError`."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout_seconds: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url
        # no retries: a POST that timed out may have been applied, and an operator re-runs a command anyway
        self._client = ServiceClient(
            "comparative_eval", base_url, timeout_seconds=timeout_seconds, retries=0, token=token, transport=transport
        )

    def __enter__(self) -> DeploymentsClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._client.close()

    def deployments(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/v1/deployments").get("deployments") or [])

    def deployment(self, model: str) -> dict[str, Any]:
        """``{record, analysis}`` of one model."""
        return dict(self._call("GET", _path(model)))

    def history(self, model: str, at: str | None = None) -> list[dict[str, Any]]:
        params = {"at": at} if at else None
        return list(self._call("GET", _path(model, "history"), params=params).get("records") or [])

    def deploy(self, model: str, version: int, mode: str, weight: int | None, reason: str | None) -> dict[str, Any]:
        body = DeployRequest(version, mode, weight, reason or "").to_wire()
        return dict(self._call("POST", _path(model, "deploy"), json=body))

    def canary(self, model: str, weight: int, reason: str | None) -> dict[str, Any]:
        body = CanaryRequest(weight, reason or "").to_wire()
        return dict(self._call("POST", _path(model, "canary"), json=body))

    def shadow(self, model: str, version: int | None, reason: str | None) -> dict[str, Any]:
        body = ShadowRequest(version, reason or "").to_wire()
        return dict(self._call("POST", _path(model, "shadow"), json=body))

    def promote(self, model: str, full: bool, reason: str | None, force: bool = False) -> dict[str, Any]:
        body = PromoteRequest(full=full, force=force, reason=reason or "").to_wire()
        return dict(self._call("POST", _path(model, "promote"), json=body))

    def rollback(
        self, model: str, node: str | None, reason: str | None, to_version: int | None = None
    ) -> dict[str, Any]:
        body = RollbackRequest(node, to_version, reason or "").to_wire()
        return dict(self._call("POST", _path(model, "rollback"), json=body))

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            status, body = self._client.relay(method, path, **kwargs)
        except StrataError as exc:  # transport failure (Unavailable) or a non-JSON answer
            raise OperatorError(f"{exc.message} ({self.base_url})", FAILURE) from None
        if status >= 400:
            error = body.get("error") if isinstance(body, dict) else None
            message = (error or {}).get("message") if isinstance(error, dict) else None
            # a 4xx is the operator's request (bad token, unknown model, conflicting change, failed validation)
            raise OperatorError(
                str(message or f"comparative_eval answered HTTP {status}"), BAD_INPUT if status < 500 else FAILURE
            )
        if not isinstance(body, dict):
            raise OperatorError(f"comparative_eval returned an unexpected body ({self.base_url})", FAILURE)
        return body


def _path(model: str, *rest: str) -> str:
    return "/".join(["/v1/deployments", quote(model, safe=""), *rest])


def operator_settings() -> Settings:
    """The CLI's settings; a bad value is the operator's one line (exit 2), not a traceback."""
    try:
        return load_settings(Settings)
    except ValidationError as exc:  # a bad STRATA_* value or YAML key
        first = exc.errors()[0]
        raise OperatorError(f"settings: {'.'.join(map(str, first['loc']))}: {first['msg']}", BAD_INPUT) from None
    except StrataError as exc:  # STRATA_CONFIG_FILE names no file
        raise OperatorError(f"settings: {exc.message}", BAD_INPUT) from None


def client_for(settings: Settings, *, mutating: bool, timeout_seconds: float | None = None) -> DeploymentsClient:
    token = require_token(settings) if mutating else read_token(settings)
    timeout = timeout_seconds or (settings.operator_timeout_seconds if mutating else 10.0)
    return DeploymentsClient(settings.comparative_eval_url, token=token, timeout_seconds=timeout)


def overview(settings: Settings) -> RenderableType:
    """The deployments table for ``strata status`` without a model; a dim note when comparative_eval is away."""
    try:
        with client_for(settings, mutating=False, timeout_seconds=3.0) as client:
            records = client.deployments()
    except OperatorError as exc:
        return Text(f"deployments: not shown ({exc.message})", style="dim")
    if not records:
        return Text("deployments: none recorded yet", style="dim")
    return deployments_table(records)


def watch(render: Callable[[], RenderableType], *, interval: float, iterations: int | None) -> None:
    """Redraw ``render()`` every ``interval`` seconds until Ctrl-C (or ``iterations`` frames, for tests)."""
    frames = 1
    try:
        with Live(render(), console=out(), refresh_per_second=4, auto_refresh=False) as live:
            while iterations is None or frames < iterations:
                time.sleep(interval)
                live.update(render(), refresh=True)
                frames += 1
    except KeyboardInterrupt:
        pass  # the operator is done watching: a clean exit, not an error


def model_status(model: str, *, watching: bool, interval: float, iterations: int | None) -> None:
    """``strata status MODEL``: the first answer decides the exit code; while watching, errors show inline."""
    settings = operator_settings()
    with client_for(settings, mutating=False) as client:
        first = deployment_view(model, client.deployment(model))
        if not watching:
            out().print(first)
            return
        shown = [True]

        def render() -> RenderableType:
            if shown[0]:  # the first frame is the answer fetched above
                shown[0] = False
                return first
            try:
                return deployment_view(model, client.deployment(model))
            except OperatorError as exc:
                return Text(f"{datetime.now():%H:%M:%S} {exc.message}; retrying every {interval:g}s", style="red")

        watch(render, interval=interval, iterations=iterations)


def check_watch_options(interval: float, iterations: int | None) -> None:
    if interval <= 0:
        raise OperatorError("--interval must be > 0 seconds", BAD_INPUT)
    if iterations is not None and iterations < 1:
        raise OperatorError("--iterations must be >= 1", BAD_INPUT)


# ---------------------------------------------------------------------------------------------- commands

ModelArg = Annotated[str, typer.Argument(help="Model name, e.g. etd.")]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why (kept in the deployment history).")]


def _mutate(action: Callable[[DeploymentsClient], dict[str, Any]], *, spinner: str | None = None) -> dict[str, Any]:
    settings = operator_settings()
    with client_for(settings, mutating=True) as client:
        if spinner is None:
            return action(client)
        with out().status(spinner, spinner="dots"):
            return action(client)


def _done(message: str, record: dict[str, Any]) -> None:
    out().print(f"[green]✓[/green] {escape(message)}")
    title = f"{record.get('model', '')} revision {record.get('revision', '?')}"
    out().print(deployments_table([record], title=escape(title)))
    if record.get("pushed") is False:  # recorded, but the engine did not take it at once
        reason = record.get("push_reason") or "no answer"
        out().print(
            f"[yellow]the inference engine was not updated now ({escape(str(reason))}); it converges by polling[/]"
        )


def _check_weight(weight: int) -> None:
    if not 0 <= weight <= 100:
        raise OperatorError(f"--weight must be between 0 and 100, got {weight}", BAD_INPUT)


def deploy(
    model: ModelArg,
    version: Annotated[int | None, typer.Option("--version", help="Registered version to deploy.")] = None,
    mode: Annotated[str, typer.Option("--mode", help="canary, shadow or full.")] = "canary",
    weight: Annotated[int, typer.Option("--weight", help="Canary share of traffic, %.")] = 5,
    reason: ReasonOpt = None,
) -> None:
    """Validate a registered version, then deploy it as a canary (default 5%), a shadow or in full."""
    with one_line_errors():
        if version is None or version < 1:
            raise OperatorError("--version is required (a registered version >= 1)", BAD_INPUT)
        if mode not in MODES:
            raise OperatorError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}", BAD_INPUT)
        _check_weight(weight)
        record = _mutate(
            lambda c: c.deploy(model, version, mode, weight if mode == "canary" else None, reason),
            spinner=f"Validating {model} v{version} (load, warm-up, request schema, latency) ...",
        )
        _done(f"{model} v{version} passed validation and is deployed: {split_text(record)}", record)


def canary(
    model: ModelArg,
    weight: Annotated[int | None, typer.Option("--weight", help="Candidate share of traffic, %.")] = None,
    reason: ReasonOpt = None,
) -> None:
    """Set the candidate's share of traffic."""
    with one_line_errors():
        if weight is None:
            raise OperatorError("--weight is required (0..100)", BAD_INPUT)
        _check_weight(weight)
        record = _mutate(lambda c: c.canary(model, weight, reason))
        _done(f"{model} candidate {version_text(record.get('candidate_version'))} now takes {weight}%", record)


def shadow(
    model: ModelArg,
    version: Annotated[int | None, typer.Option("--version", help="Version (default: the candidate).")] = None,
    reason: ReasonOpt = None,
) -> None:
    """Score a version on a copy of live traffic without answering with it."""
    with one_line_errors():
        if version is not None and version < 1:
            raise OperatorError("--version must be >= 1", BAD_INPUT)
        record = _mutate(lambda c: c.shadow(model, version, reason), spinner=f"Starting a shadow of {model} ...")
        _done(f"{model} candidate {version_text(record.get('candidate_version'))} runs in shadow", record)


def promote(
    model: ModelArg,
    full: Annotated[bool, typer.Option("--full", help="Straight to 100% and stable.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Even though the analysis says hold or rollback (kept in the history).")
    ] = False,
    reason: ReasonOpt = None,
) -> None:
    """Move the candidate to the next step of the analysis template (or all the way with --full).

    Refused while the analysis says hold or rollback, unless --force (the record says it was forced)."""
    with one_line_errors():
        record = _mutate(lambda c: c.promote(model, full, reason, force))
        if record.get("candidate_version") is None:
            _done(f"{model} {version_text(record.get('stable_version'))} is stable and serves 100%", record)
        else:
            _done(f"{model} candidate {version_text(record.get('candidate_version'))}: {split_text(record)}", record)


def rollback(
    model: ModelArg,
    node: Annotated[str | None, typer.Option("--node", help="Only this node of a partitioned model.")] = None,
    to_version: Annotated[
        int | None, typer.Option("--to-version", help="Back to this version (it served as stable before).")
    ] = None,
    reason: ReasonOpt = None,
) -> None:
    """Send all traffic back to the stable version; after a full promotion, to the previous stable version;
    with --to-version, to that one (or pin one node of a partitioned model to the stable version)."""
    with one_line_errors():
        if to_version is not None and (to_version < 1 or node is not None):
            raise OperatorError("--to-version takes a version >= 1, and not together with --node", BAD_INPUT)
        record = _mutate(lambda c: c.rollback(model, node, reason, to_version))
        if node:
            pinned = (record.get("node_pins") or {}).get(node, record.get("stable_version"))
            _done(f"{model} node {node} pinned to {version_text(pinned)}", record)
        else:
            _done(f"{model} rolled back: {version_text(record.get('stable_version'))} serves 100%", record)


def history(
    model: ModelArg,
    at: Annotated[str | None, typer.Option("--at", help="ISO time: the record in force then.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Newest N records.")] = 20,
) -> None:
    """The deployment history of a model, newest first (or the record in force at --at)."""
    with one_line_errors():
        if limit < 1:
            raise OperatorError("--limit must be >= 1", BAD_INPUT)
        if at is not None:
            try:
                datetime.fromisoformat(at.replace("Z", "+00:00"))
            except ValueError:
                raise OperatorError(f"--at must be an ISO-8601 time, got {at!r}", BAD_INPUT) from None
        settings = operator_settings()
        with client_for(settings, mutating=False) as client:
            records = client.history(model, at)
        if not records:
            out().print(f"{escape(model)}: no deployment records" + (f" at {escape(at)}" if at else ""))
        else:
            out().print(history_table(model, records[:limit], at))
        _print_provenance(settings, model, records[:limit] if at else None, limit)


def _print_provenance(settings: Settings, model: str, records: list[dict[str, Any]] | None, limit: int) -> None:
    """The versions' provenance below the records (with --at: the versions of the record in force only); the
    history stands on its own when the engine cannot be asked."""
    try:
        versions = fetch_versions(settings.inference_engine_url, model)
    except VersionsUnavailable as exc:
        out().print(f"[yellow]what each version was built from is not shown: {escape(str(exc))}[/]")
        return
    if records is not None:
        wanted = {str(r.get(k)) for r in records for k in ("stable_version", "candidate_version") if r.get(k)}
        versions = [v for v in versions if str(v.get("version")) in wanted]
    if versions:
        out().print(provenance_table(model, versions[:limit]))
