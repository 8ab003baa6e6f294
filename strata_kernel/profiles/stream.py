"""Profiles fed value by value: a window of live requests, predictions or online features, without pyarrow.

A monitor sees one event at a time, a few hundred per second at most, and keeps many small windows in memory; the
batch builder (``builder``, Arrow batches) is the wrong shape and its library the wrong size for a sidecar. A
:class:`StreamingProfile` keeps the same state (exact counters, Chan's moments, live DataSketches) and finishes
into the same :class:`~strata_kernel.profiles.model.ColumnProfile` through the same ``finish_column``, so a window
compares with a training reference by the very same definitions (``tests/kernel/test_profile_stream.py`` checks
that a streamed column equals the batch builder's on the same values).

Values: ``None`` and NaN/inf are missing; a numeric column takes numbers (a bool counts as 0/1), a categorical
one strings (anything else is turned into its ``str``). A value of the wrong kind counts as missing and also in
``wrong_kind``, so a monitor can tell a re-typed field from an absent one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from strata_kernel.profiles import sketches
from strata_kernel.profiles.model import CATEGORICAL, NUMERIC, ColumnProfile, Moments, SketchParams, TableProfile
from strata_kernel.profiles.moments import combine
from strata_kernel.profiles.summary import finish_column

#: the Arrow type name a streamed column reports, by kind
TYPE_OF_KIND = {NUMERIC: "double", CATEGORICAL: "string"}


class StreamingColumn:
    """Running state of one numeric or categorical column fed one value at a time."""

    __slots__ = ("_m2", "_mean", "_n", "count", "frequent", "hll", "kind", "kll", "maximum", "minimum", "name", "nan",
                 "nulls", "params", "wrong_kind")  # fmt: skip

    def __init__(self, name: str, kind: str, params: SketchParams) -> None:
        if kind not in TYPE_OF_KIND:
            raise ValueError(f"column {name!r}: a streamed column is numeric or categorical, not {kind!r}")
        self.name, self.kind, self.params = name, kind, params
        self.count = self.nulls = self.nan = self.wrong_kind = 0
        self.minimum: float | None = None
        self.maximum: float | None = None
        self._n, self._mean, self._m2 = 0, 0.0, 0.0  # Welford's running moments of this column's own values
        self.kll: Any = sketches.new_kll(params) if kind == NUMERIC else None
        self.hll: Any = sketches.new_hll(params)
        self.frequent: Any = sketches.new_frequent(params) if kind == CATEGORICAL else None

    def add(self, value: Any) -> None:
        self.count += 1
        if value is None:
            self.nulls += 1
        elif self.kind == NUMERIC:
            self._add_number(value)
        else:
            text = value if isinstance(value, str) else str(value)
            self.hll.update(text)
            self.frequent.update(text)

    def _add_number(self, value: Any) -> None:
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int | float):
            self.wrong_kind += 1
            self.nulls += 1
            return
        number = float(value)
        if not math.isfinite(number):
            self.nan += 1
            return
        self.minimum = number if self.minimum is None or number < self.minimum else self.minimum
        self.maximum = number if self.maximum is None or number > self.maximum else self.maximum
        self._n += 1
        delta = number - self._mean
        self._mean += delta / self._n
        self._m2 += delta * (number - self._mean)
        self.kll.update(number)
        self.hll.update(value if isinstance(value, int) else number)

    @property
    def present(self) -> int:
        return self.count - self.nulls - self.nan

    @property
    def moments(self) -> Moments:
        return Moments(self._n, self._mean, self._m2)

    def merge(self, other: StreamingColumn) -> None:
        """Add ``other``'s values (its sketches are merged, not consumed)."""
        if other.kind != self.kind:
            raise ValueError(f"column {self.name!r} is {self.kind} here and {other.kind} there: cannot merge")
        self.count += other.count
        self.nulls += other.nulls
        self.nan += other.nan
        self.wrong_kind += other.wrong_kind
        for bound, pick in (("minimum", min), ("maximum", max)):
            values = [v for v in (getattr(self, bound), getattr(other, bound)) if v is not None]
            setattr(self, bound, pick(values) if values else None)
        merged = combine(self.moments, other.moments)
        self._n, self._mean, self._m2 = merged.n, merged.mean, merged.m2
        if self.kll is not None:
            self.kll.merge(other.kll)
        if self.frequent is not None:
            self.frequent.merge(other.frequent)
        self.hll = sketches.hll_result(sketches.union_of(self.hll, other.hll))

    def finish(self) -> ColumnProfile:
        state = {
            "name": self.name, "type": TYPE_OF_KIND[self.kind], "kind": self.kind, "count": self.count,
            "nulls": self.nulls, "nan": self.nan, "minimum": self.minimum, "maximum": self.maximum,
            "moments": self.moments if self.kind == NUMERIC else None,
        }  # fmt: skip
        live = {"kll": self.kll, "hll": self.hll, "frequent": self.frequent}
        return finish_column(state, {key: sketch for key, sketch in live.items() if sketch is not None}, self.params)


class StreamingProfile:
    """Rows fed one mapping at a time; columns are declared up front (``kinds``) or appear as rows name them."""

    def __init__(self, kinds: Mapping[str, str] | None = None, *, params: SketchParams | None = None) -> None:
        self.params = params or SketchParams()
        self.rows = 0
        self.columns: dict[str, StreamingColumn] = {}
        for name, kind in (kinds or {}).items():
            self.columns[name] = StreamingColumn(name, kind, self.params)

    def add(self, row: Mapping[str, Any]) -> None:
        """One row; a declared column the row lacks counts as missing, an undeclared one is added by its kind."""
        for name, value in row.items():
            column = self.columns.get(name)
            if column is None:
                if value is None:
                    continue  # a column first seen missing: its kind is unknown yet (counted when it appears)
                kind = NUMERIC if isinstance(value, int | float) else CATEGORICAL
                column = self.columns[name] = StreamingColumn(name, kind, self.params)
                column.count = column.nulls = self.rows
            column.add(value)
        for name, column in self.columns.items():
            if name not in row:
                column.count += 1
                column.nulls += 1
        self.rows += 1

    def merge(self, other: StreamingProfile) -> None:
        for name, theirs in other.columns.items():
            mine = self.columns.get(name)
            if mine is None:
                mine = self.columns[name] = StreamingColumn(name, theirs.kind, self.params)
                mine.count = mine.nulls = self.rows
            mine.merge(theirs)
        for name, column in self.columns.items():
            if name not in other.columns:
                column.count += other.rows
                column.nulls += other.rows
        self.rows += other.rows

    def finish(self, names: Iterable[str] | None = None) -> TableProfile:
        """The profile of every row so far (of the columns ``names`` only, when given)."""
        wanted = self.columns if names is None else {n: self.columns[n] for n in names if n in self.columns}
        return TableProfile(rows=self.rows, columns=tuple(c.finish() for c in wanted.values()), params=self.params)


def merged(profiles: Iterable[StreamingProfile], params: SketchParams | None = None) -> StreamingProfile:
    """A new profile holding the rows of all ``profiles`` (each left as it was)."""
    total = StreamingProfile(params=params)
    for profile in profiles:
        total.merge(profile)
    return total
