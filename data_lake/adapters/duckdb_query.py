"""Read-only SQL over the lake with DuckDB, refused writes included — by construction, not by keyword.

Three locks, each enough against a different attack:
1. DuckDB's own parser must see exactly one statement, of type SELECT (comments, case, ``;``-chains and
   ``query('...')`` cannot hide anything from the parser that will run the text);
2. the database is a private in-memory one, created for this query and thrown away: nothing persists;
3. the tables are Arrow datasets registered by this process (read by pyarrow, which only reads), and then
   DuckDB's file-system access is switched off and the configuration locked, so no statement can read, write,
   copy to or attach any file (``COPY``, ``read_csv('/etc/…')``, ``ATTACH`` and re-enabling all fail).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from data_lake.domain.commits import TableSnapshot
from data_lake.errors import QueryRefused
from data_lake.ports import QueryEngine

MAX_SQL_LENGTH = 100_000


class DuckDBQueryEngine(QueryEngine):
    def __init__(self, lake_root: Path) -> None:
        self._root = lake_root.resolve()

    def query(
        self, sql: str, tables: Mapping[str, TableSnapshot], *, limit: int, timeout_seconds: float
    ) -> tuple[list[str], list[tuple[object, ...]], bool]:
        import duckdb

        if not sql.strip() or len(sql) > MAX_SQL_LENGTH:
            raise QueryRefused(f"sql: must be 1..{MAX_SQL_LENGTH} characters", field="sql")
        connection = duckdb.connect(":memory:")
        try:
            _check_read_only(connection, sql)
            self._register(connection, tables)
            connection.execute("SET enable_external_access = false")
            connection.execute("SET lock_configuration = true")
            return _run(connection, sql, limit, timeout_seconds)
        except duckdb.InterruptException as exc:
            raise QueryRefused(f"the query ran longer than {timeout_seconds:g} s and was stopped", field="sql") from exc
        except duckdb.Error as exc:
            raise QueryRefused(str(exc).strip().splitlines()[0], field="sql") from exc
        finally:
            connection.close()

    def _register(self, connection: Any, tables: Mapping[str, TableSnapshot]) -> None:
        import pyarrow as pa
        import pyarrow.dataset as ds
        import pyarrow.parquet as pq

        for index, (name, snapshot) in enumerate(sorted(tables.items())):
            if not snapshot.files:
                continue
            zone, table = name.split(".", 1)
            location = self._root / snapshot.table.location
            paths = [str(self._root / file.path) for file in snapshot.files]
            # every file's columns (the schema may have grown), plus the partition column from the directories
            schema = pa.unify_schemas([pq.read_schema(path) for path in paths], promote_options="permissive")
            if snapshot.partition_column not in schema.names:
                schema = schema.append(pa.field(snapshot.partition_column, pa.string()))
            partitioning = ds.partitioning(pa.schema([schema.field(snapshot.partition_column)]), flavor="hive")
            dataset = ds.dataset(paths, schema=schema, format="parquet", partitioning=partitioning,
                                 partition_base_dir=str(location))  # fmt: skip
            connection.register(f"__lake_{index}", dataset)
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{zone}"')
            connection.execute(f'CREATE VIEW "{zone}"."{table}" AS SELECT * FROM __lake_{index}')


def _check_read_only(connection: Any, sql: str) -> None:
    import duckdb

    statements = connection.extract_statements(sql)
    if len(statements) != 1:
        raise QueryRefused(f"read-only: exactly one SELECT statement is allowed, got {len(statements)}", field="sql")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        name = str(kind).rsplit(".", 1)[-1]
        raise QueryRefused(f"read-only: only SELECT queries are allowed, not {name}; the lake is written by commits",
                           field="sql")  # fmt: skip


def _run(connection: Any, sql: str, limit: int, timeout_seconds: float) -> tuple[list[str], list[Any], bool]:
    timer = threading.Timer(timeout_seconds, connection.interrupt)
    timer.start()
    try:
        cursor = connection.execute(sql)
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchmany(limit + 1)
    finally:
        timer.cancel()
    return names, [tuple(row) for row in rows[:limit]], len(rows) > limit
