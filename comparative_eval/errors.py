"""Errors of comparative_eval; each subclasses the kernel hierarchy and so knows its HTTP status."""

from __future__ import annotations

from strata_kernel.errors import BadRequest, ConfigurationError, Conflict, NotFound, StrataError, Unavailable


class InvalidChange(BadRequest):
    code = "invalid_change"


class ChangeConflict(Conflict):
    """The model's state forbids the change (e.g. rollback without a candidate)."""

    code = "change_conflict"


class LockTimeout(Conflict):
    """Another change of the same model holds its lock longer than ``lock_timeout_seconds``."""

    code = "concurrent_change"


class UnknownModel(NotFound):
    code = "unknown_model"


class NoAnalysis(NotFound):
    code = "no_analysis"


class ValidationFailed(StrataError):
    status = 422
    code = "validation_failed"


class InvalidTemplate(ConfigurationError):
    code = "invalid_template"


class DatabaseUnavailable(Unavailable):
    code = "database_unavailable"


class LockUnavailable(Unavailable):
    code = "lock_unavailable"
