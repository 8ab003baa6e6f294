"""The one definition of every statistic: a profile built from Arrow record batches.

Engines only decide where batches come from — DuckDB scanning a file on this machine, a Spark executor's
``mapInArrow`` on a cluster, an in-memory table of live requests — and all of them feed this builder, so a
statistic means the same thing everywhere. Work per batch is vectorised (pyarrow compute, numpy, the sketches'
array update); only distinct values go through a Python loop (HLL and frequent items take one value per call).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strata_kernel.profiles import sketches
from strata_kernel.profiles.model import (
    CATEGORICAL,
    NUMERIC,
    OTHER,
    TEMPORAL,
    Moments,
    Partition,
    SketchParams,
    TableProfile,
)
from strata_kernel.profiles.moments import combine
from strata_kernel.profiles.summary import STATE_FIELDS, finish_column


def kind_of(arrow_type: Any) -> str:
    import pyarrow as pa

    types = pa.types
    if types.is_dictionary(arrow_type):
        return kind_of(arrow_type.value_type)
    if types.is_integer(arrow_type) or types.is_floating(arrow_type) or types.is_decimal(arrow_type):
        return NUMERIC
    if types.is_timestamp(arrow_type) or types.is_date(arrow_type):
        return TEMPORAL
    if types.is_string(arrow_type) or types.is_large_string(arrow_type) or types.is_boolean(arrow_type):
        return CATEGORICAL
    return OTHER


class _Column:
    """Running state of one column."""

    def __init__(self, name: str, arrow_type: Any, params: SketchParams) -> None:
        self.name, self.type, self.kind = name, str(arrow_type), kind_of(arrow_type)
        self.count = self.nulls = self.nan = 0
        self.minimum: Any = None
        self.maximum: Any = None
        self.moments = Moments() if self.kind == NUMERIC else None
        self.kll: Any = sketches.new_kll(params) if self.kind in (NUMERIC, TEMPORAL) else None
        self.hll: Any = sketches.new_hll(params) if self.kind != OTHER else None
        self.frequent: Any = sketches.new_frequent(params) if self.kind == CATEGORICAL else None

    def update(self, array: Any) -> None:
        self.count += len(array)
        self.nulls += array.null_count
        if self.kind == OTHER or array.null_count == len(array):
            return
        values = array.drop_null()
        if self.kind == CATEGORICAL:
            self._update_categorical(values)
        else:
            self._update_ordered(values)

    def _update_categorical(self, values: Any) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        if pa.types.is_boolean(values.type):
            values = pc.if_else(values, "true", "false")
        counts = pc.value_counts(values)
        for value, count in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True):
            self.hll.update(value)
            self.frequent.update(value, count)

    def _update_ordered(self, values: Any) -> None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        numbers = _as_numbers(values)
        finite = np.isfinite(numbers)
        if not finite.all():  # NaN and +-inf are missing: they have no place on an axis or in a mean
            self.nan += int((~finite).sum())
            numbers, values = numbers[finite], values.filter(pa.array(finite))
        if not len(numbers):
            return
        low, high = pc.min_max(_exact(values)).values()  # exact, also for integers beyond 2**53
        self.minimum = _lower(self.minimum, low.as_py())
        self.maximum = _higher(self.maximum, high.as_py())
        self.kll.update(numbers if numbers.flags.writeable else numbers.copy())  # the binding wants a writable array
        for value in pc.unique(_exact(values)).to_pylist():
            self.hll.update(value)
        if self.moments is not None:
            batch = Moments(len(numbers), float(numbers.mean()), float(((numbers - numbers.mean()) ** 2).sum()))
            self.moments = combine(self.moments, batch)

    def finish(self, params: SketchParams) -> Any:
        state = {name: getattr(self, name) for name in STATE_FIELDS}
        live = {"kll": self.kll, "hll": self.hll, "frequent": self.frequent}
        return finish_column(state, {key: sketch for key, sketch in live.items() if sketch is not None}, params)


def _as_numbers(values: Any) -> Any:
    """float64 values of a numeric column; microseconds since the epoch of a temporal one."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_timestamp(values.type) or pa.types.is_date(values.type):
        return _micros(values).to_numpy(zero_copy_only=False).astype(np.float64)
    return pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)


def _micros(values: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_date(values.type):
        values = pc.cast(values, pa.timestamp("us"))
    unit = values.type.unit
    as_int = values.view(pa.int64()) if hasattr(values, "view") else pc.cast(values, pa.int64())
    factor = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": None}[unit]
    return pc.multiply(as_int, factor) if factor else pc.divide(as_int, 1_000)


def _exact(values: Any) -> Any:
    """The values as exact numbers: integers stay integers, timestamps become integer microseconds."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_timestamp(values.type) or pa.types.is_date(values.type):
        return _micros(values)
    if pa.types.is_decimal(values.type):
        return pc.cast(values, pa.float64())
    return values


def _lower(current: Any, value: Any) -> Any:
    return value if current is None or value < current else current


def _higher(current: Any, value: Any) -> Any:
    return value if current is None or value > current else current


class ProfileBuilder:
    """Feed record batches, then :meth:`finish`. Columns appear as the batches name them."""

    def __init__(self, *, partition: str | None = None, partition_column: str | None = None,
                 params: SketchParams | None = None) -> None:  # fmt: skip
        self.params = params or SketchParams()
        self.partition, self.partition_column = partition, partition_column
        self.rows = 0
        self._columns: dict[str, _Column] = {}

    def update(self, batch: Any) -> None:
        """Add one ``pyarrow.RecordBatch`` (or ``Table``); a column missing from it counts as missing there."""
        for name in self._columns.keys() - set(batch.schema.names):
            self._columns[name].count += batch.num_rows
            self._columns[name].nulls += batch.num_rows
        for field, array in zip(batch.schema, batch.columns, strict=True):
            column = self._columns.get(field.name)
            if column is None:
                column = self._columns[field.name] = _Column(field.name, field.type, self.params)
                column.count = column.nulls = self.rows  # earlier batches did not have it
            for chunk in getattr(array, "chunks", [array]):
                column.update(chunk)
        self.rows += batch.num_rows

    def finish(self) -> TableProfile:
        partitions = (Partition(self.partition, self.rows, 1),) if self.partition is not None else ()
        return TableProfile(
            rows=self.rows,
            columns=tuple(column.finish(self.params) for column in self._columns.values()),
            partitions=partitions,
            partition_column=self.partition_column,
            params=self.params,
        )


def profile_arrow(data: Any, *, params: SketchParams | None = None) -> TableProfile:
    """The profile of a ``pyarrow.Table``, a ``RecordBatch`` or an iterable of batches: a training set, a window
    of live requests, a pandas DataFrame through ``pyarrow.Table.from_pandas``."""
    builder = ProfileBuilder(params=params)
    batches: Iterable[Any] = data.to_batches() if hasattr(data, "to_batches") else data
    for batch in batches:
        builder.update(batch)
    return builder.finish()
