"""What a trained engine was built from: the code commit, the DVC pipeline's lock, the params, the lake table
versions read and the library versions that decide its bytes. Recorded as version tags ``provenance.<key>``.

Read from the working directory of the training process (the repository root, or a reproduction's worktree).
``STRATA_CODE_COMMIT`` names the commit where there is no ``.git`` (a container image built from a commit).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path

PREFIX = "provenance."
COMMIT_VARIABLE = "STRATA_CODE_COMMIT"
#: the distributions whose version changes a model's bytes or predictions
LIBRARIES = {"xgboost": "xgboost-cpu", "tensorflow": "tensorflow-cpu", "numpy": "numpy"}
LOCK_FILE = "dvc.lock"
#: the run document holding the dvc.lock a version was trained with: `strata reproduce` checks out its data
LOCK_DOCUMENT = "provenance/dvc_lock.json"
PARAMS_FILE = "params.yaml"
METRICS_DIR = "pipeline/metrics"  # dvc.yaml's `metrics:` of the training stages


def collect(tables: Mapping[str, int], *, params_section: str | None, root: Path | None = None) -> dict[str, str]:
    """The ``provenance.*`` tags of a version trained now from ``tables`` (lake table -> version read)."""
    root = root or Path.cwd()
    commit, dirty = code_commit(root)
    tags = {
        "code_commit": commit,
        "code_dirty": "true" if dirty else "false",
        "dvc_lock": file_digest(root / LOCK_FILE),
        "params": json.dumps(_params(root / PARAMS_FILE, params_section), sort_keys=True, separators=(",", ":")),
        "lake_tables": json.dumps(dict(sorted(tables.items())), separators=(",", ":")),
        **{name: library_version(distribution) for name, distribution in LIBRARIES.items()},
    }
    return {PREFIX + key: value for key, value in tags.items()}


def training_tags(train_args: Sequence[str], seed: int, table_dir: Path) -> dict[str, str]:
    """How a declared model was trained: its ``inference_engine train`` options, seed and the directory of the
    lake table it read (a DVC stage's lake is a scratch copy; a running Strata's is under its lake root). With the
    table version, a rebuild on the same lake trains the same way from the same rows."""
    return {PREFIX + "train_args": json.dumps(list(train_args)), PREFIX + "seed": str(seed),
            PREFIX + "lake_table_dir": str(table_dir.resolve())}  # fmt: skip


def read_train_args(tags: Mapping[str, str]) -> list[str] | None:
    """The recorded training options (None: a version trained before they were recorded)."""
    raw = tags.get(PREFIX + "train_args")
    if raw is None:
        return None
    found = json.loads(raw)
    return [str(arg) for arg in found] if isinstance(found, list) else None


def lock_document(root: Path | None = None) -> dict[str, str]:
    """The dvc.lock being used now (during `dvc repro` it names the outputs of the stages already run)."""
    path = (root or Path.cwd()) / LOCK_FILE
    return {"digest": file_digest(path), "text": path.read_text() if path.is_file() else ""}


def read(tags: Mapping[str, str]) -> dict[str, str]:
    """The provenance of a version's tags, without the prefix (empty for a version trained before it existed)."""
    return {key.removeprefix(PREFIX): value for key, value in tags.items() if key.startswith(PREFIX)}


def code_commit(root: Path) -> tuple[str, bool]:
    """(commit, whether the working tree differs from it); ``unknown`` outside a git checkout."""
    pinned = os.environ.get(COMMIT_VARIABLE, "").strip()
    if pinned:
        return pinned, False
    head = _git(root, "rev-parse", "HEAD")
    if head is None:
        return "unknown", False
    # only tracked code counts: not untracked files, nor what `dvc repro` rewrites (dvc.lock, recorded by digest,
    # the .gitignore files of its outputs, and the stages' metrics, which git tracks because dvc.yaml says
    # `cache: false` — a training stage rewrites them, so every later version would look trained from edited code)
    status = _git(
        root,
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        ".",
        ":!dvc.lock",
        ":!**/.gitignore",
        ":!.gitignore",
        f":!{METRICS_DIR}",
    )
    return head, bool(status)


def file_digest(path: Path) -> str:
    """``sha256:<hex>`` of a file, ``none`` when there is none."""
    if not path.is_file():
        return "none"
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def library_version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


def _params(path: Path, section: str | None) -> dict[str, object]:
    """The params.yaml entries that decide this engine: the shared ``demo`` block and the model's own section."""
    if not path.is_file():
        return {}
    import yaml

    body = yaml.safe_load(path.read_text())
    if not isinstance(body, dict):
        return {}
    wanted = ["demo", section] if section else list(body)
    return {key: body[key] for key in wanted if key in body}


def _git(root: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None
