"""The development flow's use case: poll the lake's commit checks and record what they found.

Apart from :mod:`monitoring.monitors` (windows, profiles, judgements): the lake's sidecar runs only this one.
"""

from __future__ import annotations

from monitoring.domain.lake import LakeFinding
from monitoring.ports import DataRecorder, LakeChecks


class LakeCheckMonitor:
    """The development flow: new findings of the lake's commit checks become counters, quarantines a gauge."""

    def __init__(self, checks: LakeChecks, recorder: DataRecorder) -> None:
        self._checks, self._recorder = checks, recorder
        self._cursor = 0

    def poll(self) -> None:
        while True:
            found: list[LakeFinding] = self._checks.after(self._cursor)
            if not found:
                break
            self._recorder.lake_findings(found)
            self._cursor = max(finding.id for finding in found)
        runs: dict[str, set[str]] = {}
        for finding in self._checks.quarantined():
            runs.setdefault(finding.table, set()).add(finding.run_id)
        self._recorder.lake_quarantined({table: len(ids) for table, ids in runs.items()})
