"""Process trees from /proc: who descends from whom, and how much resident memory a group of trees holds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path


def family(roots: Iterable[int], parents: Mapping[int, int]) -> set[int]:
    """The roots and every descendant of them, from a pid -> parent pid map (one snapshot of /proc)."""
    roots = list(roots)
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found, frontier = set(roots), list(roots)
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def parents() -> dict[int, int]:
    """pid -> parent pid of every process now (one pass over /proc)."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return found


def _rss_kb(pids: Iterable[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def groups_rss_kb(groups: Mapping[str, Iterable[int]]) -> dict[str, int]:
    """Summed VmRSS of each group's process trees, from one snapshot (a process counted in one group only)."""
    snapshot = parents()
    seen: set[int] = set()
    out: dict[str, int] = {}
    for name, roots in groups.items():
        members = family(roots, snapshot) - seen
        seen |= members
        out[name] = _rss_kb(members)
    return out
