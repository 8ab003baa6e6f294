"""The lake commit: a writer's ``POST /v1/tables/{zone}.{table}/commits`` to data_lake, and the catalog's answer.

Writers (``strata_kernel.lake.LakeClient``: data_collection, data_processing, the operator) stage Hive-partitioned
Parquet files under ``<zone>/<table>/_staging/<run>/`` and send a :class:`CommitRequest`; the catalog checks every
file's footer against it, moves the files in and answers a :class:`CommitAnswer` (201, or 200 when the same staging
run was committed before: ``replayed``). Which modes, jobs and row counts are allowed is the catalog's rule, not the
wire's: ``from_wire`` checks the shape only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from strata_kernel.contracts.wire import InvalidPayload

APPEND = "append"


@dataclass(frozen=True)
class Column:
    name: str
    type: str

    def to_wire(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type}

    @classmethod
    def from_wire(cls, body: Any, where: str = "column") -> Column:
        item = _object(body, where)
        return cls(_text(item.get("name"), f"{where}.name"), _text(item.get("type"), f"{where}.type"))


@dataclass(frozen=True)
class StagedFile:
    #: relative to the lake root: ``<zone>/<table>/_staging/<run>/<column>=<value>/<file>.parquet``
    path: str
    partition: str
    rows: int

    def to_wire(self) -> dict[str, Any]:
        return {"path": self.path, "partition": self.partition, "rows": self.rows}

    @classmethod
    def from_wire(cls, body: Any, where: str = "file") -> StagedFile:
        item = _object(body, where)
        rows = item.get("rows")
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise InvalidPayload(f"{where}.rows must be a non-negative integer, got {rows!r}", field=f"{where}.rows")
        return cls(_text(item.get("path"), f"{where}.path"), _text(item.get("partition"), f"{where}.partition"), rows)


@dataclass(frozen=True)
class CommitRequest:
    partition_column: str
    schema: tuple[Column, ...]
    files: tuple[StagedFile, ...]
    job: str
    mode: str = APPEND
    #: the tables (``<zone>.<table>``) the job read: the lineage
    inputs: tuple[str, ...] = ()
    #: take files that lack columns of the table (otherwise the catalog quarantines the commit)
    accept_schema_change: bool = False
    #: a continuous writer's commit (a stream's flush): its size follows the writer's flush timing, not the data,
    #: so the catalog's row-count check does not judge it (its columns are checked as any commit's)
    continuous: bool = False

    FIELDS = ("partition_column", "schema", "files", "mode", "job", "inputs", "accept_schema_change", "continuous")

    def to_wire(self) -> dict[str, Any]:
        return {
            "partition_column": self.partition_column,
            "schema": [column.to_wire() for column in self.schema],
            "files": [file.to_wire() for file in self.files],
            "mode": self.mode,
            "job": self.job,
            "inputs": list(self.inputs),
            "accept_schema_change": self.accept_schema_change,
            "continuous": self.continuous,
        }

    @classmethod
    def from_wire(cls, body: Any) -> CommitRequest:
        item = _object(body, "body")
        inputs = item.get("inputs", [])
        if not isinstance(inputs, list) or not all(isinstance(name, str) for name in inputs):
            raise InvalidPayload("inputs must be a list of table names", field="inputs")
        accept, continuous = item.get("accept_schema_change", False), item.get("continuous", False)
        for name, value in (("accept_schema_change", accept), ("continuous", continuous)):
            if not isinstance(value, bool):
                raise InvalidPayload(f"{name} must be true or false", field=name)
        columns, files = _list(item.get("schema"), "schema"), _list(item.get("files"), "files")
        return cls(
            partition_column=_text(item.get("partition_column"), "partition_column"),
            schema=tuple(Column.from_wire(column, f"schema[{i}]") for i, column in enumerate(columns)),
            files=tuple(StagedFile.from_wire(file, f"files[{i}]") for i, file in enumerate(files)),
            job=_text(item.get("job"), "job"),
            mode=_text(item.get("mode", APPEND), "mode"),
            inputs=tuple(inputs),
            accept_schema_change=accept,
            continuous=continuous,
        )


@dataclass(frozen=True)
class CommitAnswer:
    #: ``<zone>.<table>``
    name: str
    version: int
    rows: int
    #: the writer the catalog recorded (None when the call carried no service identity)
    caller: str | None
    #: True when this staging run had been committed before (the 200 of a retried commit)
    replayed: bool

    FIELDS = ("name", "version", "rows", "caller", "replayed")

    def to_wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "rows": self.rows,
            "caller": self.caller,
            "replayed": self.replayed,
        }

    @classmethod
    def from_wire(cls, body: Any) -> CommitAnswer:
        item = _object(body, "body")
        numbers = {}
        for name in ("version", "rows"):
            value = item.get(name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidPayload(f"{name} must be a non-negative integer, got {value!r}", field=name)
            numbers[name] = value
        caller = item.get("caller")
        if caller is not None and not isinstance(caller, str):
            raise InvalidPayload("caller must be a string or null", field="caller")
        replayed = item.get("replayed", False)
        if not isinstance(replayed, bool):
            raise InvalidPayload("replayed must be true or false", field="replayed")
        return cls(_text(item.get("name"), "name"), numbers["version"], numbers["rows"], caller, replayed)


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidPayload(f"{where} must be a JSON object", field=where)
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidPayload(f"{where} must be a list", field=where)
    return value


def _text(value: Any, where: str) -> str:
    # a string; whether it may be empty (or must name a known mode, a job, a staged file) is the catalog's rule
    if not isinstance(value, str):
        raise InvalidPayload(f"{where} must be a string", field=where)
    return value
