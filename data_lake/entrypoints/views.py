"""JSON shapes of the catalog's answers, shared by the HTTP API and the CLI's ``--json``."""

from __future__ import annotations

from typing import Any

from data_lake.domain.checks import CheckRecord
from data_lake.domain.commits import Hold, TableSummary, partition_stats
from data_lake.domain.lineage import TableLineage
from data_lake.profiling import ProfileService, VersionProfile
from data_lake.services import Committed, TableDetails
from strata_kernel.contracts.lake_commit import CommitAnswer
from strata_kernel.profiles.compare import ProfileDiff
from strata_kernel.profiles.model import TableProfile


def commit_view(committed: Committed) -> dict[str, Any]:
    return CommitAnswer(
        name=committed.table.qualified,
        version=committed.version,
        rows=committed.rows,
        caller=committed.caller,
        replayed=committed.replayed,
    ).to_wire()


def hold_view(hold: Hold) -> dict[str, Any]:
    return {"version": hold.version, "holder": hold.holder, "held_at": hold.held_at.isoformat()}


def summary_view(summary: TableSummary) -> dict[str, Any]:
    return {
        "name": summary.table.qualified,
        "zone": summary.table.zone,
        "version": summary.version,
        "rows": summary.rows,
        "partitions": summary.partitions,
        "updated_at": summary.updated_at.isoformat(),
    }


def table_view(details: TableDetails) -> dict[str, Any]:
    """The JSON shape of one table; the CLI prints the same."""
    snapshot = details.snapshot
    return {
        "name": snapshot.table.qualified,
        "zone": snapshot.table.zone,
        "location": snapshot.table.location,
        "partition_column": snapshot.partition_column,
        "schema": [{"name": column.name, "type": column.type} for column in snapshot.schema],
        "version": snapshot.version,
        "rows": snapshot.rows,
        "updated_at": snapshot.updated_at.isoformat(),
        "partitions": [{"value": p.value, "rows": p.rows, "files": p.files} for p in details.partitions],
        # exactly this version's files (paths relative to the lake root): what a reader reads, never a glob of the
        # directory, where a commit's moved-in files and the ones it supersedes lie side by side for a moment
        "files": [{"path": f.path, "partition": f.partition, "rows": f.rows} for f in snapshot.files],
        "commits": [
            {
                "version": c.version,
                "caller": c.caller,
                "job": c.job,
                "inputs": list(c.inputs),
                "mode": c.mode.value,
                "rows": c.rows,
                "at": c.at.isoformat(),
            }
            for c in details.commits
        ],
    }


def profile_view(profiles: ProfileService, found: VersionProfile, *, sketches: bool = False) -> dict[str, Any]:
    """A table version's profile (the kernel's JSON, sketches left out unless asked) with its context."""
    snapshot, profile = found.snapshot, found.profile
    return {
        "name": snapshot.table.qualified,
        "zone": snapshot.table.zone,
        "version": snapshot.version,
        "latest_version": found.latest_version,
        "rows": snapshot.rows,
        "committed_at": snapshot.updated_at.isoformat(),
        "partition_column": snapshot.partition_column,
        "schema": [{"name": column.name, "type": column.type} for column in snapshot.schema],
        "freshness": profiles.freshness(profile, snapshot),
        "profile": (profile if sketches else profile.without_sketches()).to_dict(),
    }


def diff_view(before: VersionProfile, after: VersionProfile, diff: ProfileDiff) -> dict[str, Any]:
    def side(found: VersionProfile) -> dict[str, Any]:
        snapshot = found.snapshot
        return {"version": snapshot.version, "rows": snapshot.rows, "committed_at": snapshot.updated_at.isoformat()}

    return {"name": after.snapshot.table.qualified, "from": side(before), "to": side(after), **diff.to_dict()}


def lineage_view(lineage: TableLineage) -> dict[str, Any]:
    return {
        "name": lineage.table,
        "version": lineage.version,
        "job": lineage.job,
        "upstream": lineage.upstream,
        "downstream": lineage.downstream,
    }


def overview_view(profiles: ProfileService) -> dict[str, Any]:
    """Every table with what the lake page's list shows: zone, versions, rows, freshness, rows per partition."""
    tables = []
    for snapshot, profile in profiles.overview():
        partitions = partition_stats(snapshot.files)
        freshness = profiles.freshness(profile, snapshot) if profile is not None else None
        if freshness is None and partitions:
            freshness = profiles.freshness(TableProfile(rows=0, columns=()), snapshot)
        tables.append({
            "name": snapshot.table.qualified,
            "zone": snapshot.table.zone,
            "version": snapshot.version,
            "rows": snapshot.rows,
            "columns": len(snapshot.schema),
            "updated_at": snapshot.updated_at.isoformat(),
            "profiled": profile is not None,
            "freshness": freshness,
            "partition_rows": [{"value": p.value, "rows": p.rows} for p in partitions],
        })  # fmt: skip
    return {"tables": tables}


def check_view(check: CheckRecord) -> dict[str, Any]:
    return {
        "id": check.id,
        "table": check.table,
        "version": check.version,
        "run_id": check.run_id,
        "field": check.field,
        "reason": check.reason,
        "detail": check.detail,
        "quarantined": check.quarantined,
        "released": check.released,
        "at": check.at.isoformat(timespec="seconds"),
    }
