"""The lake's files on a local (or mounted) file system under one root directory."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pyarrow.parquet as pq

from data_lake.domain.commits import FileFacts
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

    def parquet_facts(self, path: str) -> FileFacts:
        target = self._existing(path)
        try:
            metadata = pq.read_metadata(target)
            schema = metadata.schema.to_arrow_schema()
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise ValueError(f"{path!r} is not a readable Parquet file") from exc
        return FileFacts(int(metadata.num_rows), tuple((field.name, str(field.type)) for field in schema))

    def move(self, source: str, target: str) -> None:
        origin, destination = self._existing(source), self._resolve(target)
        if destination is None:
            raise FileNotFoundError(target)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.link(origin, destination)  # FileExistsError rather than replace a file someone else put there
        origin.unlink()

    def remove_empty_dirs(self, path: str) -> None:
        top = self._resolve(path)
        if top is None or not top.is_dir():
            return
        for directory in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                directory.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()

    def _existing(self, path: str) -> Path:
        """A regular file reached without any symbolic link (a staged link must not move a committed file)."""
        target = self._resolve(path)
        if target is None or target != self.root / path or not target.is_file():
            raise FileNotFoundError(path)
        return target
