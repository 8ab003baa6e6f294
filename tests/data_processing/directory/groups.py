"""Feature group definitions for the directory's tests: copies of the packaged group, edited per test."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from data_processing.settings import Settings

PACKAGED = Settings().resolved_feature_groups_dir()
NOW = datetime(2025, 3, 1, 12, 0)


def copy_group(target: Path, name: str = "restaurant_stats") -> Path:
    """``target`` holding the packaged group ``name`` (YAML + code) and the declared entities."""
    target.mkdir(parents=True, exist_ok=True)
    for file in (f"{name}.yaml", f"{name}.py", "entities.yaml"):
        shutil.copy(PACKAGED / file, target / file)
    return target / f"{name}.yaml"


def edit_yaml(path: Path, **changes: Any) -> None:
    data = yaml.safe_load(path.read_text())
    data.update(changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def edit_code(path: Path, old: str, new: str) -> None:
    code = path.read_text()
    assert old in code, f"{old!r} not in {path.name}"
    path.write_text(code.replace(old, new))


def declared_features(path: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load(path.read_text())["features"])
