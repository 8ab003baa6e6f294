"""Errors of routing; each knows its HTTP status (see strata_kernel.errors)."""

from __future__ import annotations

from strata_kernel.errors import BadRequest, StrataError, Unauthorized, Unavailable


class InvalidRoutingRecord(BadRequest):
    code = "invalid_routing_record"


class MissingOperatorToken(Unauthorized):
    code = "operator_token_required"


class Forbidden(StrataError):
    status = 403
    code = "forbidden"


class RoutingNotConfigured(Unavailable):
    """No operator token is configured, so nobody may change routing through this engine."""

    code = "routing_not_configured"


class VersionNotLoadable(StrataError):
    """A version named by a routing record exists but cannot be loaded or warmed up; routing is unchanged."""

    status = 422
    code = "version_not_loadable"


class RoutedByRecord(StrataError):
    """An alias reload was asked for while a routing record decides which versions serve."""

    status = 409
    code = "routed_by_record"
