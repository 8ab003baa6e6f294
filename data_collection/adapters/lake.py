"""RawLake over the kernel's LakeClient: rows -> Arrow (timestamps as timestamp[us]) -> Parquet + catalog commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from data_collection.domain.events import PARTITION_COLUMN, FieldKind, TableSchema
from data_collection.errors import LakeWriteFailed
from data_collection.ports import RawLake, WriteMode
from strata_kernel.errors import StrataError
from strata_kernel.lake import LakeClient

_ARROW_TYPES: dict[FieldKind, pa.DataType] = {
    "id": pa.string(),
    "text": pa.string(),
    "timestamp": pa.timestamp("us"),
    "instant": pa.timestamp("us"),
    "count": pa.int64(),
    "amount": pa.float64(),
    "flag": pa.bool_(),
    "strings": pa.list_(pa.string()),
}


def arrow_schema(schema: TableSchema) -> pa.Schema:
    fields = [pa.field(name, _ARROW_TYPES[kind], nullable=name in schema.nullable) for name, kind in schema.fields]
    return pa.schema([*fields, pa.field(PARTITION_COLUMN, pa.string(), nullable=False)])


def rows_to_arrow(schema: TableSchema, rows: Sequence[dict[str, Any]]) -> pa.Table:
    target = arrow_schema(schema)
    columns = [pa.array([row.get(f.name) for row in rows], type=f.type) for f in target]
    return pa.Table.from_arrays(columns, schema=target)


class LakeClientRawLake(RawLake):
    def __init__(self, client: LakeClient) -> None:
        self._client = client

    def append(
        self,
        schema: TableSchema,
        rows: Sequence[dict[str, Any]],
        *,
        job: str,
        inputs: Sequence[str],
        mode: WriteMode = "append",
    ) -> int:
        data = rows_to_arrow(schema, rows)
        try:
            result = self._client.write_arrow(
                schema.table, data, partition_column=PARTITION_COLUMN, job=job, inputs=inputs, mode=mode
            )
        except (StrataError, OSError) as exc:
            message = exc.message if isinstance(exc, StrataError) else str(exc)
            raise LakeWriteFailed(f"writing {schema.table} failed: {message}") from exc
        return int(result["version"])
