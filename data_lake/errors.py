"""Errors of the data lake catalog; each knows its HTTP status through the kernel hierarchy."""

from __future__ import annotations

from strata_kernel.errors import BadRequest, Conflict, Forbidden, NotFound


class InvalidCommit(BadRequest):
    """The commit request is malformed or names files that cannot be committed."""

    code = "invalid_commit"


class InvalidLoad(BadRequest):
    """A file that cannot be landed as asked (format, table, time columns, a value that does not parse)."""

    code = "invalid_load"


class NotTableOwner(Forbidden):
    """The caller may not write this table (another deployable owns it), or may not replace it (not its job)."""

    code = "not_table_owner"


class InvalidTableName(BadRequest):
    code = "invalid_table_name"


class SchemaConflict(Conflict):
    """A column already in the table would change type: readers of older files would break."""

    code = "schema_conflict"


class ConcurrentCommit(Conflict):
    """Another writer committed the same version first, even after a retry."""

    code = "concurrent_commit"


class TableNotFound(NotFound):
    code = "table_not_found"


class VersionNotFound(NotFound):
    code = "version_not_found"


class HoldNotFound(NotFound):
    """No such hold to release: nothing is held for that holder (a typo, or released already)."""

    code = "hold_not_found"


class VersionFilesGone(Conflict):
    """An older version's files were deleted once later commits had replaced them for the retention period."""

    code = "version_files_gone"


class ProfileUnavailable(Conflict):
    """A version's profile was never computed and its files are gone (an overwrite replaced them)."""

    code = "profile_unavailable"


class QueryRefused(BadRequest):
    """The SQL is not one read-only SELECT, or it fails (syntax, unknown table, time limit)."""

    code = "query_refused"


class InvalidVersion(BadRequest):
    code = "invalid_version"


class CommitQuarantined(Conflict):
    """The commit breaks its table's schema: its files stay staged and the reason is recorded (domain/checks.py)."""

    code = "commit_quarantined"


class InvalidLookup(BadRequest):
    code = "invalid_lookup"
