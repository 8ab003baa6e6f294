"""Errors of routing; each knows its HTTP status (see strata_kernel.errors)."""

from __future__ import annotations

from strata_kernel.contracts.routing import InvalidRoutingRecord
from strata_kernel.errors import StrataError

__all__ = ["InvalidRoutingRecord", "RoutedByRecord", "VersionNotLoadable"]


class VersionNotLoadable(StrataError):
    """A version named by a routing record exists but cannot be loaded or warmed up; routing is unchanged."""

    status = 422
    code = "version_not_loadable"


class RoutedByRecord(StrataError):
    """An alias reload was asked for while a routing record decides which versions serve."""

    status = 409
    code = "routed_by_record"
