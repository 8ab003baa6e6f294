"""A declared model's spine: the rows it learns from, read from a lake table or a read-only query over lake tables.

The query runs in DuckDB over Arrow datasets of the committed files of the tables it names (``raw.trips`` is
schema ``raw``, view ``trips``), with DuckDB's own file access switched off and locked before it runs, so a
declaration cannot read or write anything but those tables. The spine is then checked against the declaration:
every column it names exists with a usable type, and the nominal time becomes instants (its declared zone reads
wall-clock values stored without one). A declared burn-in leaves out the spine's first days, counted from its
earliest nominal time, whatever the table or query.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.dataset as ds

from data_processing.errors import InvalidJoin
from strata_kernel.contracts.model_spec import ModelSpec, Spine
from strata_kernel.lake import TableInfo, committed_files
from strata_kernel.time_columns import as_instants


def read_spine(spine: Spine, infos: Sequence[TableInfo]) -> pa.Table:
    """The spine's rows (all columns) as Arrow; ``infos`` are the tables ``spine.tables`` names, in order."""
    import duckdb

    with duckdb.connect() as con:
        for info in infos:
            zone, name = info.name.split(".", 1)
            con.register(f"_{zone}_{name}", _dataset(info))
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{zone}"')
            con.execute(f'CREATE VIEW "{zone}"."{name}" AS SELECT * FROM "_{zone}_{name}"')
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        sql = _burnt_in(spine, spine.query if spine.query is not None else f"SELECT * FROM {spine.table}")
        try:
            result = con.sql(sql).arrow()
        except duckdb.Error as exc:
            raise InvalidJoin(f"spine query failed: {str(exc).splitlines()[0]}", field="spine.query") from exc
    table = result if isinstance(result, pa.Table) else result.read_all()
    if table.num_rows == 0:  # said here: an empty training set would fail later as a commit without files
        what = "its query selected" if spine.query is not None else f"{spine.table} holds"
        days = spine.burn_in_days
        after = f" after its burn-in (the first {days} day{'s' if days != 1 else ''})" if days else ""
        raise InvalidJoin(f"the spine is empty: {what} no rows{after} (nothing to train on)", field="spine")
    return table


def _burnt_in(spine: Spine, sql: str) -> str:
    """The spine's rows after its burn-in (the declared names are checked identifiers, the days an integer)."""
    if spine.burn_in_days == 0:
        return sql
    time = f'"{spine.time}"'
    return (f"WITH _spine AS ({sql}) SELECT * FROM _spine "
            f"WHERE {time} >= (SELECT min({time}) FROM _spine) + INTERVAL {spine.burn_in_days} DAY")  # fmt: skip


def prepare_spine(spine: pa.Table, spec: ModelSpec) -> pa.Table:
    """Check the columns the declaration names; the nominal time as instants (zone declared or stored)."""
    origin = f"{spec.name}.yaml: spine"
    names = set(spine.column_names)
    wanted = dict.fromkeys(
        [spec.spine.id, spec.spine.time, *spec.entities, *(f.name for f in spec.context), spec.label]
    )
    if spec.baseline_mean_by is not None:
        wanted[spec.baseline_mean_by] = None
    missing = [column for column in wanted if column not in names]
    if missing:
        raise InvalidJoin(f"{origin} has no column(s) {', '.join(missing)} (columns: {', '.join(spine.column_names)})",
                          field=missing[0])  # fmt: skip
    for field in spec.context:
        kind = spine.schema.field(field.name).type
        numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
        if not field.categorical and not numeric:
            raise InvalidJoin(
                f"{origin}.{field.name} is {kind}, but the context declares {field.type}", field=field.name
            )
    label = spine.schema.field(spec.label).type
    if not (pa.types.is_integer(label) or pa.types.is_floating(label) or pa.types.is_boolean(label)):
        raise InvalidJoin(f"{origin}.{spec.label} (the label) is {label}: a label must be a number or a boolean",
                          field=spec.label)  # fmt: skip
    index = spine.schema.get_field_index(spec.spine.time)
    instants = as_instants(spine.column(index), zone=spec.spine.time_zone, what=f"{origin}.{spec.spine.time}")
    return spine.set_column(index, spec.spine.time, instants)


def _dataset(info: TableInfo) -> ds.Dataset:
    return ds.dataset(
        committed_files(info), format="parquet", partitioning="hive", partition_base_dir=str(info.location)
    )
