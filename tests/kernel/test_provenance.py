"""A version's provenance: the commit (and whether the tree differed), dvc.lock's digest, the params that decide
the engine, the lake table versions and the library versions."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from strata_kernel import provenance


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    (tmp_path / "dvc.lock").write_text("schema: '2.0'\n")
    (tmp_path / "params.yaml").write_text("demo: {size: tiny, seed: 7}\netd: {seed: 3}\nhelpbot: {seed: 9}\n")
    (tmp_path / "pipeline" / "metrics").mkdir(parents=True)
    (tmp_path / "pipeline" / "metrics" / "etd.json").write_text('{"mae": 3.6}')
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "one")
    return tmp_path


def test_a_clean_checkout_names_its_commit_lock_params_tables_and_libraries(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(provenance.COMMIT_VARIABLE, raising=False)
    tags = provenance.read(provenance.collect({"processed.b": 3, "processed.a": 1}, params_section="etd", root=repo))

    assert tags["code_commit"] == git(repo, "rev-parse", "HEAD") and tags["code_dirty"] == "false"
    assert tags["dvc_lock"] == provenance.file_digest(repo / "dvc.lock") and tags["dvc_lock"].startswith("sha256:")
    assert json.loads(tags["params"]) == {"demo": {"size": "tiny", "seed": 7}, "etd": {"seed": 3}}
    assert tags["lake_tables"] == '{"processed.a":1,"processed.b":3}'
    assert tags["numpy"][0].isdigit() and tags["xgboost"][0].isdigit()


def test_a_changed_tracked_file_marks_the_commit_dirty_an_untracked_one_or_the_stage_metrics_do_not(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(provenance.COMMIT_VARIABLE, raising=False)
    (repo / "scratch.txt").write_text("not code")
    (repo / "pipeline" / "metrics" / "etd.json").write_text('{"mae": 3.5}')  # a training stage's metrics, rewritten
    assert provenance.code_commit(repo)[1] is False
    (repo / "params.yaml").write_text("demo: {size: small}\n")
    assert provenance.code_commit(repo)[1] is True


def test_outside_git_the_commit_comes_from_the_environment_or_is_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(provenance.COMMIT_VARIABLE, raising=False)
    assert provenance.code_commit(tmp_path) == ("unknown", False)
    assert provenance.collect({}, params_section=None, root=tmp_path)["provenance.dvc_lock"] == "none"
    monkeypatch.setenv(provenance.COMMIT_VARIABLE, "abc123")
    assert provenance.code_commit(tmp_path) == ("abc123", False)
