"""Fallback validation instances: ``<dir>/<model>.json`` holding a list of instances (or ``{"instances": [..]}``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from comparative_eval.errors import InvalidChange
from comparative_eval.ports import SampleFiles


class JsonSampleFiles(SampleFiles):
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def instances(self, model: str) -> tuple[list[dict[str, Any]], str]:
        path = self._directory / f"{model}.json"
        if not path.is_file():
            return [], str(path)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise InvalidChange(f"sample file {path} is not valid JSON: {exc}") from exc
        items = data.get("instances") if isinstance(data, dict) else data
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise InvalidChange(f"sample file {path} must hold a list of instances (JSON objects)")
        return items, str(path)
