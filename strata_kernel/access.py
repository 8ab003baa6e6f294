"""Who may call what: the credential check every service applies before a view reads its request.

Default: every mutating call (POST, PUT, PATCH, DELETE) needs a credential of a known caller (a deployable's
service credential or the operator's token); reads are open. A view narrows that with :func:`callers` (only
these callers; on a read too, for reads that expose internals) or opens it with :func:`public` (an end user's
call, public by design). The check runs before the body is parsed, so a refused call costs nothing.

Refused calls are counted in ``strata_<component>_http_refused_total{endpoint, reason}`` (reason:
``unauthenticated`` = no bearer token, ``forbidden`` = an unknown token or a caller the view does not accept);
accepted ones in ``strata_<component>_http_calls_by_caller_total{endpoint, caller}``, and log lines of the
request carry the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, g, request
from prometheus_client import CollectorRegistry, Counter

from strata_kernel.contracts.auth import (
    AUTHORIZATION,
    OPERATOR,
    SERVICE_CALLERS,
    CallerDirectory,
    authenticate,
)
from strata_kernel.errors import Forbidden, Unauthorized
from strata_kernel.hook_marks import lean_covered
from strata_kernel.logs import caller_var
from strata_kernel.metrics import metric_name

log = logging.getLogger(__name__)

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KNOWN_CALLERS = frozenset((*SERVICE_CALLERS, OPERATOR))
SECURITY_SCHEME = "ServiceCredential"
_POLICY = "_strata_callers"
_PUBLIC = "public"

View = TypeVar("View", bound=Callable[..., Any])


def public(view: View) -> View:
    """Anyone may call this view (an end user's call, public by design)."""
    setattr(view, _POLICY, _PUBLIC)
    return view


def callers(*names: str) -> Callable[[View], View]:
    """Only these callers (deployables by name, or ``operator``) may call this view, whatever its method."""
    unknown = set(names) - KNOWN_CALLERS
    if unknown or not names:
        raise ValueError(f"unknown callers {sorted(unknown)}; expected some of {sorted(KNOWN_CALLERS)}")

    def mark(view: View) -> View:
        setattr(view, _POLICY, frozenset(names))
        return view

    return mark


def policy_of(view: Callable[..., Any] | None, method: str) -> frozenset[str] | None:
    """The callers a view accepts for ``method``; None = anyone."""
    while view is not None:
        marked = getattr(view, _POLICY, None)
        if marked is not None:
            return None if marked == _PUBLIC else marked
        view = getattr(view, "__wrapped__", None)
    return KNOWN_CALLERS if method in MUTATING else None


@dataclass(frozen=True)
class AccessMetrics:
    refused: Counter
    calls: Counter

    @classmethod
    def create(cls, component: str, registry: CollectorRegistry) -> AccessMetrics:
        return cls(
            refused=Counter(
                metric_name(component, "http_refused_total"),
                "Calls refused for want of an accepted credential (unauthenticated | forbidden).",
                ["endpoint", "reason"],
                registry=registry,
            ),
            calls=Counter(
                metric_name(component, "http_calls_by_caller_total"),
                "Authenticated calls by endpoint and calling deployable (or operator).",
                ["endpoint", "caller"],
                registry=registry,
            ),
        )


def install_access_control(app: Flask, directory: CallerDirectory, metrics: AccessMetrics) -> None:
    """Check the caller of every request whose view asks for one, before the view runs."""
    app.extensions[ACCESS] = (directory, metrics)

    @app.before_request
    @lean_covered
    def _check_caller() -> None:
        endpoint = request.url_rule.rule if request.url_rule is not None else None
        if endpoint is None:  # 404 / 405: nothing to protect
            return
        accepted = policy_of(app.view_functions.get(request.endpoint or ""), request.method)
        if accepted is None:
            return
        caller = authorize(
            directory, metrics, accepted, request.headers.get(AUTHORIZATION), request.method, endpoint,
            request.remote_addr,
        )  # fmt: skip
        g.strata_caller = caller
        g.strata_caller_token = caller_var.set(caller)

    @app.teardown_request
    @lean_covered
    def _forget_caller(_exc: BaseException | None) -> None:
        token = g.pop("strata_caller_token", None)
        if token is not None:
            caller_var.reset(token)


#: app.extensions key of the (CallerDirectory, AccessMetrics) an app checks callers with
ACCESS = "strata.access"


def authorize(
    directory: CallerDirectory,
    metrics: AccessMetrics,
    accepted: frozenset[str],
    header: str | None,
    method: str,
    endpoint: str,
    remote_addr: str | None,
) -> str:
    """The caller ``header`` (``Authorization``) proves, if ``accepted`` holds it; else 401/403, counted and
    logged."""
    try:
        caller = authenticate(header, directory.credentials(KNOWN_CALLERS), what="service credential")
    except (Unauthorized, Forbidden) as refusal:
        _refuse(metrics, method, endpoint, remote_addr, refusal)
        raise
    if caller not in accepted:
        not_accepted = Forbidden(f"{caller} may not call {method} {endpoint}")
        _refuse(metrics, method, endpoint, remote_addr, not_accepted)
        raise not_accepted
    metrics.calls.labels(endpoint, caller).inc()
    return caller


def _refuse(
    metrics: AccessMetrics, method: str, endpoint: str, remote_addr: str | None, refusal: Unauthorized | Forbidden
) -> None:
    reason = "unauthenticated" if isinstance(refusal, Unauthorized) else "forbidden"
    metrics.refused.labels(endpoint, reason).inc()
    log.warning("refused %s %s from %s: %s", method, endpoint, remote_addr, reason)


def document_security(spec: dict[str, Any] | str, app: Flask) -> dict[str, Any] | str:
    """Mark every operation that needs a credential in the OpenAPI document (security + 401/403)."""
    if isinstance(spec, str):  # APIFlask hands a YAML/JSON string only when asked for one: leave it
        return spec
    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = {"type": "http", "scheme": "bearer"}
    for rule in app.url_map.iter_rules():
        path = _openapi_path(rule.rule)
        operations = spec.get("paths", {}).get(path, {})
        for method in rule.methods or ():
            operation = operations.get(method.lower())
            if operation is None or policy_of(app.view_functions.get(rule.endpoint), method) is None:
                continue
            operation["security"] = [{SECURITY_SCHEME: []}]
            for status, text in (("401", "No credential"), ("403", "A credential this call does not accept")):
                operation.setdefault("responses", {}).setdefault(status, {"description": text})
    return spec


def _openapi_path(rule: str) -> str:
    """``/v1/tables/<table>`` and ``/v1/features/<path:expression>`` -> ``/v1/tables/{table}``, ``{expression}``."""
    parts = []
    for part in rule.split("/"):
        if part.startswith("<") and part.endswith(">"):
            part = "{" + part[1:-1].split(":")[-1] + "}"
        parts.append(part)
    return "/".join(parts)
