"""Lineage up and down from the commits' inputs: which table versions a table was built from, and which tables
are built from it (reading which of its versions)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from data_lake.domain.commits import CommitRecord

_TABLE_REF = re.compile(r"^(?P<table>[a-z]+\.[a-z][a-z0-9_]*)@v(?P<version>\d+)$")


@dataclass(frozen=True, slots=True)
class TableLineage:
    table: str
    version: int
    job: str | None
    upstream: list[dict[str, Any]] = field(default_factory=list)
    downstream: list[dict[str, Any]] = field(default_factory=list)


def parse_ref(text: str) -> tuple[str, int] | None:
    """``"raw.order_placed@v3"`` -> ``("raw.order_placed", 3)``; other inputs (files, feature sets) -> None."""
    match = _TABLE_REF.match(text)
    return (match["table"], int(match["version"])) if match else None


def lineage_of(table: str, commits: Mapping[str, Sequence[CommitRecord]]) -> TableLineage:
    """Upstream: the inputs of ``table``'s latest commit. Downstream: tables whose latest commit read ``table``."""
    own = commits.get(table) or []
    latest = own[-1] if own else None
    upstream = []
    for text in latest.inputs if latest else ():
        ref = parse_ref(text)
        upstream.append({"table": ref[0], "version": ref[1]} if ref else {"input": text})
    downstream = []
    for other, history in sorted(commits.items()):
        if other == table or not history:
            continue
        for text in history[-1].inputs:
            ref = parse_ref(text)
            if ref and ref[0] == table:
                current = latest is not None and ref[1] == latest.version
                downstream.append({"table": other, "version": history[-1].version, "job": history[-1].job,
                                   "reads_version": ref[1], "reads_latest": current})  # fmt: skip
    return TableLineage(table, latest.version if latest else 0, latest.job if latest else None, upstream, downstream)
