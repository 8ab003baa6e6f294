"""A token file is believed for a second at most: rotation and deletion take effect, a new file at once."""

from __future__ import annotations

from pathlib import Path

from strata_kernel.contracts.auth import TokenFile


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_rotated_token_replaces_the_old_one_within_the_recheck_time(tmp_path: Path) -> None:
    path, clock = tmp_path / "ui.token", Clock()
    path.write_text("first\n")
    token = TokenFile(path, recheck_seconds=1.0, clock=clock)
    assert token() == "first"

    path.write_text("second\n")
    clock.now += 0.5
    assert token() == "first"  # inside the window: no file system call
    clock.now += 0.6
    assert token() == "second"


def test_a_deleted_file_stops_being_accepted_after_the_recheck_time(tmp_path: Path) -> None:
    path, clock = tmp_path / "ui.token", Clock()
    path.write_text("secret\n")
    token = TokenFile(path, recheck_seconds=1.0, clock=clock)
    assert token() == "secret"

    path.unlink()
    clock.now += 1.0
    assert token() is None


def test_a_missing_or_empty_file_is_looked_for_on_every_call(tmp_path: Path) -> None:
    path, clock = tmp_path / "ui.token", Clock()
    token = TokenFile(path, recheck_seconds=1.0, clock=clock)
    assert token() is None

    path.write_text("\n")
    assert token() is None
    path.write_text("late\n")
    assert token() == "late"  # the same instant: a caller's new file is accepted at once
