"""The lake's files on a local (or mounted) file system under one root directory."""

from __future__ import annotations

from pathlib import Path

from data_lake.ports import LakeStorage


class LocalLakeStorage(LakeStorage):
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _resolve(self, path: str) -> Path | None:
        """The absolute path, or ``None`` if it escapes the root (through ``..`` or a symbolic link)."""
        target = (self.root / path).resolve()
        return target if target.is_relative_to(self.root) else None

    def exists(self, path: str) -> bool:
        target = self._resolve(path)
        return target is not None and target.is_file()

    def size(self, path: str) -> int:
        target = self._resolve(path)
        if target is None:
            raise FileNotFoundError(path)
        return target.stat().st_size

    def delete(self, path: str) -> None:
        target = self._resolve(path)
        if target is not None:
            target.unlink(missing_ok=True)
