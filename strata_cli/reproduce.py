"""`strata reproduce MODEL --version N | --at TIME`: rebuild a registered engine from what it records, compare.

1. the version (``--at``: the stable one of the deployment record in force then, from comparative evaluation) and
   its provenance (the engine's ``version-info``);
2. a scratch git worktree at the recorded commit under ``<var_dir>/reproduce/``;
3. a version trained on this Strata's lake (`strata build`, a retrain while it runs) that recorded its training
   options: the commit's training job again, with those options and seed, on the lake table versions it read;
   any other (trained in a DVC stage, or before the options were recorded): this repository's DVC cache and
   remote for the worktree (an old commit may configure no remote, or one relative to itself; its objects may be
   only in the remote), ``dvc fetch`` + ``dvc checkout`` of that commit's data, whatever is missing rebuilt by
   ``dvc repro`` of the stages the training stage reads, then the training stage forced (``dvc repro --force
   --single-item``); either way with the commit's own code (PYTHONPATH), into the scratch registry;
4. ``inference_engine compare``: bytes identical / predictions identical on the version's sample / different, why;
5. ``--deploy`` (operator token): ``inference_engine adopt`` registers the rebuild, then comparative evaluation
   validates and deploys it like any version.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from strata_cli.devflow import child_env
from strata_cli.settings import Settings
from strata_kernel import provenance

#: the DVC stage that trains each model (dvc.yaml)
TRAIN_STAGES = {"etd": "train_etd", "helpbot": "train_helpbot"}


class ReproduceFailed(RuntimeError):
    """One line of why the reproduction cannot go on."""


@dataclass(frozen=True)
class Scratch:
    root: Path  # the worktree
    var: Path  # its var/: the scratch registry

    @property
    def env(self) -> dict[str, str]:
        return {"STRATA_VAR_DIR": str(self.var), "PYTHONPATH": str(self.root)}


def reproduce(
    settings: Settings, model: str, version: int, console: Console, *, deploy: bool = False, keep: bool = False
) -> dict[str, Any]:
    """Rebuild ``model`` v``version`` and compare it with the registered one; returns the verdict (with
    ``adopted``: the new version, when ``deploy``)."""
    stage = TRAIN_STAGES.get(model)
    if stage is None:
        raise ReproduceFailed(f"no DVC stage trains {model}; reproducible models: {', '.join(TRAIN_STAGES)}")
    repo = _repository_root()
    info = engine(settings, "version-info", model, "--version", str(version))
    tags = info["tags"]
    commit = tags.get("provenance.code_commit")
    if not commit or commit == "unknown":
        raise ReproduceFailed(f"{model} v{version} records no code commit: it cannot be rebuilt")
    if tags.get("provenance.code_dirty") == "true":
        console.print(
            f"[yellow]{model} v{version} was trained from uncommitted changes: the rebuild uses {commit[:10]}"
        )
    if _git(repo, "cat-file", "-e", f"{commit}^{{commit}}", check=False).returncode != 0:
        raise ReproduceFailed(f"commit {commit[:10]} recorded by {model} v{version} is not in {repo} (git fetch it)")
    on_lake = lake_rebuild(settings, tags)
    with _scratch(settings, repo, commit, f"{model}-v{version}", keep) as scratch:
        if on_lake is not None:  # its rows are still in this Strata's lake: no pipeline to run again
            tables = ", ".join(f"{name} v{number}" for name, number in on_lake.tables.items())
            _step(console, f"train {model} again on {tables} ({commit[:10]}'s code, recorded options)",
                  lambda: _train_on_lake(settings, scratch, model, on_lake))  # fmt: skip
        else:
            _rebuild_with_dvc(repo, scratch, info, model, console)
        verdict = engine(settings, "compare", model, "--version", str(version), "--rebuilt-var", str(scratch.var))
        if deploy:  # registered before the scratch registry goes away
            verdict["adopted"] = engine(settings, "adopt", model, "--reproduces", str(version), "--rebuilt-var",
                                        str(scratch.var))  # fmt: skip
        return verdict


@dataclass(frozen=True)
class LakeRebuild:
    tables: dict[str, int]  # lake table -> the version the reproduced version read
    args: list[str]  # `inference_engine train` options: the recorded ones, then the table version
    seed: str


def lake_rebuild(settings: Settings, tags: dict[str, str]) -> LakeRebuild | None:
    """How to train the version again on this Strata's lake, when it was trained on it (`strata build`, a retrain
    on a running Strata) and recorded its options; None: it was trained in a DVC stage (a scratch lake the
    pipeline rebuilds), or before the options were recorded — DVC rebuilds it."""
    recorded = provenance.read(tags)
    args = provenance.read_train_args(tags)
    table_dir = recorded.get("lake_table_dir")
    tables = {str(name): int(number) for name, number in json.loads(recorded.get("lake_tables") or "{}").items()}
    if args is None or not table_dir or len(tables) != 1 or not Path(table_dir).is_relative_to(settings.lake()):
        return None
    return LakeRebuild(tables, [*args, "--table-version", str(next(iter(tables.values())))], recorded["seed"])


def _train_on_lake(settings: Settings, scratch: Scratch, model: str, rebuild: LakeRebuild) -> None:
    """The commit's training job on this Strata's lake (its var/: the lake and the credentials to read it), into
    the scratch registry and run directory: nothing of the running Strata is written."""
    registry = scratch.var / "mlflow"
    registry.mkdir(parents=True, exist_ok=True)
    env = {**child_env(settings), "PYTHONPATH": str(scratch.root), "STRATA_SEED": rebuild.seed,
           "STRATA_LOG_LEVEL": "WARNING", "STRATA_MLFLOW_TRACKING_URI": f"sqlite:///{registry / 'mlflow.db'}",
           "STRATA_MLFLOW_ARTIFACT_ROOT": str(registry / "artifacts"),
           "STRATA_PARTITIONED_RUNS_DIR": str(scratch.var / "inference_engine" / "partitioned")}  # fmt: skip
    _run([sys.executable, "-m", "inference_engine", "train", model, *rebuild.args], scratch.root, env=env)


def _rebuild_with_dvc(repo: Path, scratch: Scratch, info: dict[str, Any], model: str, console: Console) -> None:
    """The commit's pipeline in the scratch worktree: its data (fetched, or rebuilt by the stages before the
    training), then the training stage forced."""
    tags, stage = info["tags"], TRAIN_STAGES[model]
    commit = tags["provenance.code_commit"]
    if not (scratch.root / "dvc.yaml").is_file():
        raise ReproduceFailed(f"commit {commit[:10]} has no dvc.yaml (it predates it)")
    _use_recorded_lock(scratch, info.get("dvc_lock"), tags.get("provenance.dvc_lock"), console)
    _step(console, f"DVC data of {commit[:10]} (fetch + checkout)", lambda: _restore_data(repo, scratch, stage))
    # only the stages before it: `dvc repro STAGE` would also train whenever the recorded lock differs from
    # the commit's metrics file (it always does), and the forced run below trained a second time
    upstream = upstream_stages(scratch.root / "dvc.yaml", stage)
    if upstream:
        _step(console, f"rebuild what {stage} reads ({', '.join(upstream)}: dvc repro)",
              lambda: _dvc(scratch, "repro", *upstream))  # fmt: skip
    # the training itself always runs again (an up-to-date stage would otherwise be skipped)
    _step(console, f"train {model} again ({stage})", lambda: _dvc(scratch, "repro", "--force", "-s", stage))


def upstream_stages(dvc_yaml: Path, stage: str) -> list[str]:
    """The stages whose outputs ``stage`` depends on (`dvc repro` of them brings back everything before it)."""
    stages: dict[str, dict[str, Any]] = (yaml.safe_load(dvc_yaml.read_text()) or {}).get("stages") or {}
    if stage not in stages:
        raise ReproduceFailed(f"{dvc_yaml.name} of that commit has no stage {stage}")
    deps = set(_paths(stages[stage].get("deps", [])))
    return [name for name, spec in stages.items() if name != stage and deps & set(_paths(spec.get("outs", [])))]


def _paths(entries: list[str | dict[str, Any]]) -> Iterator[str]:
    """Paths of a dvc.yaml list: an entry is a path or ``{path: options}``."""
    for entry in entries:
        yield from ([entry] if isinstance(entry, str) else entry)


def engine(settings: Settings, *args: str) -> dict[str, Any]:
    """An inference-engine command of this checkout, against the project's registry; its JSON line."""
    env = {**os.environ, **child_env(settings), "STRATA_LOG_LEVEL": "WARNING"}
    result = subprocess.run([sys.executable, "-m", "inference_engine", *args], capture_output=True, text=True,
                            env=env, check=False)  # fmt: skip
    if result.returncode != 0:
        lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        raise ReproduceFailed(lines[-1] if lines else f"inference_engine {args[0]} exited {result.returncode}")
    body: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return body


@contextmanager
def _scratch(settings: Settings, repo: Path, commit: str, label: str, keep: bool) -> Iterator[Scratch]:
    root = settings.var_dir.resolve() / "reproduce" / f"{label}-{int(time.time())}"
    root.parent.mkdir(parents=True, exist_ok=True)
    _git(repo, "worktree", "add", "--detach", str(root), commit)
    try:
        yield Scratch(root, root / "var")
    finally:
        if not keep:
            _git(repo, "worktree", "remove", "--force", str(root), check=False)
            shutil.rmtree(root, ignore_errors=True)


def _use_recorded_lock(scratch: Scratch, lock: dict[str, str] | None, digest: str | None, console: Console) -> None:
    """The dvc.lock the version was trained with names the exact data it read (during `dvc repro` it differs from
    the committed one: every stage run rewrites it); the commit's own lock is the fallback."""
    if lock and lock.get("text") and lock.get("digest") == digest:
        (scratch.root / "dvc.lock").write_text(lock["text"])
        console.print(f"using the dvc.lock the version was trained with ({str(digest)[7:19]})")
    else:
        console.print("[yellow]the version kept no dvc.lock: using its commit's; missing data is rebuilt[/]")


def _restore_data(repo: Path, scratch: Scratch, stage: str) -> None:
    """This repository's cache and default remote for the worktree (its own .dvc/config may name none, or one
    relative to itself), then the commit's objects; what cannot be fetched is rebuilt by the next step."""
    cache = (repo / ".dvc" / "cache").resolve()
    _dvc(scratch, "config", "--local", "cache.dir", str(cache))
    _dvc(scratch, "config", "--local", "core.analytics", "false")
    remote = _current_remote(repo)
    if remote is not None:
        _dvc(scratch, "remote", "add", "--local", "--force", "--default", "strata-current", remote)
        _dvc(scratch, "fetch", "--run-cache", "--with-deps", stage, check=False)
    _dvc(scratch, "checkout", "--with-deps", stage, check=False)


def _current_remote(repo: Path) -> str | None:
    """This checkout's default remote as an absolute URL (relative ones are relative to .dvc/)."""
    name = _run(["dvc", "config", "core.remote"], repo, check=False).stdout.strip()
    if not name:
        return None
    url = _run(["dvc", "config", f"remote.{name}.url"], repo, check=False).stdout.strip()
    if not url:
        return None
    if "://" in url or url.startswith("/"):
        return url
    return str((repo / ".dvc" / url).resolve())


def _step(console: Console, what: str, action: Any) -> None:
    started = time.perf_counter()
    with console.status(f"{what} ...", spinner="dots"):
        action()
    console.print(f"[green]✓[/green] {what} ({time.perf_counter() - started:.1f}s)")


def _dvc(scratch: Scratch, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return _run(["dvc", *args], scratch.root, env=scratch.env, check=check)


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return _run(["git", *args], repo, check=check)


def _run(
    command: list[str], cwd: Path, *, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # dvc and strata of this venv
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False,
                            env={**os.environ, "PATH": path, **(env or {})})  # fmt: skip
    if check and result.returncode != 0:
        lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        raise ReproduceFailed(f"{' '.join(command[:3])} failed: {lines[-1] if lines else result.returncode}")
    return result


def _repository_root() -> Path:
    result = _run(["git", "rev-parse", "--show-toplevel"], Path.cwd(), check=False)
    if result.returncode != 0:
        raise ReproduceFailed("run `strata reproduce` inside the Strata git repository")
    return Path(result.stdout.strip())
