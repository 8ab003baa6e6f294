"""CrawlState as one JSON file (replaced atomically, so a crash mid-write keeps the previous state)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from data_collection.ports import CrawlState


class FileCrawlState(CrawlState):
    def __init__(self, path: Path) -> None:
        self._path = path

    def load(self) -> dict[str, str]:
        if not self._path.exists():
            return {}
        try:
            document = json.loads(self._path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"crawl state {self._path} is not valid JSON: {exc}") from None
        return {str(k): str(v) for k, v in document.get("articles", {}).items()}

    def save(self, hashes: dict[str, str]) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_name(f".{self._path.name}.tmp")
        tmp.write_text(json.dumps({"articles": dict(sorted(hashes.items()))}, indent=1), encoding="utf-8")
        os.replace(tmp, self._path)
