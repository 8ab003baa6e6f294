"""The profile data model: plain values and their JSON form (no numpy, pyarrow or sketch library here).

A :class:`TableProfile` describes a set of rows — one Parquet file, a table version, a training set, a window of
live requests — column by column. It has two layers:

* the **state**: exact mergeable counters (rows, nulls, NaNs, min, max, mean/M2) and serialised Apache
  DataSketches (KLL quantiles, HLL distinct count, frequent items), from which two profiles merge into the
  profile of the union of their rows (``strata_kernel.profiles.merge``);
* the **summary**: what a person reads (missing rate, distinct estimate, quantiles, histogram, top categories),
  derived from the state when the profile is finished and written into the JSON, so any consumer — a browser,
  a notebook without Strata, an MLflow artifact reader — can use it with ``json.load`` alone.

The JSON form is versioned (``format`` / ``format_version``); :func:`TableProfile.from_dict` refuses other
formats and versions with a clear error instead of misreading them. Schema: ``docs/profiles.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

FORMAT = "strata.profile"
FORMAT_VERSION = 1

#: column kinds: which statistics a column gets
NUMERIC, TEMPORAL, CATEGORICAL, OTHER = "numeric", "temporal", "categorical", "other"
KINDS = (NUMERIC, TEMPORAL, CATEGORICAL, OTHER)
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


_NUMERIC_TYPES = ("int", "uint", "float", "double", "halffloat", "decimal", "bigint", "smallint", "tinyint", "long")


def kind_of_type_name(type_name: str) -> str:
    """The kind of a column from its Arrow type name (``double``, ``timestamp[us]``, ``large_string``...)."""
    name = type_name.strip().lower()
    if name.startswith(_NUMERIC_TYPES):
        return NUMERIC
    if name.startswith(("timestamp", "date")):
        return TEMPORAL
    if name in ("string", "large_string", "utf8", "large_utf8", "bool", "boolean") or name.startswith(
        "dictionary<values=string"
    ):
        return CATEGORICAL
    return OTHER


class ProfileFormatError(ValueError):
    """A JSON document is not a profile this code can read (other format, newer version, malformed)."""


@dataclass(frozen=True, slots=True)
class SketchParams:
    """Sizes of the sketches; two profiles merge only when they were built with the same ones."""

    kll_k: int = 400  # KLL normalised rank error ~0.7% (99% confidence) for one quantile
    hll_lg_k: int = 12  # HLL relative standard error ~1.6%
    frequent_lg_max: int = 10  # frequent items: exact up to 768 distinct values

    def to_dict(self) -> dict[str, int]:
        return {"kll_k": self.kll_k, "hll_lg_k": self.hll_lg_k, "frequent_lg_max": self.frequent_lg_max}


@dataclass(frozen=True, slots=True)
class Moments:
    """Count, mean and sum of squared deviations of the non-missing values (Chan's mergeable form)."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0

    @property
    def std(self) -> float | None:
        return math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else None


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    name: str
    type: str  # the Arrow/catalog type name, e.g. "double", "string", "timestamp[us]"
    kind: str  # one of KINDS
    count: int  # rows seen, missing ones included
    nulls: int = 0
    nan: int = 0  # NaN values of a floating column (counted as missing)
    minimum: float | None = None  # numeric: the value; temporal: microseconds since the epoch
    maximum: float | None = None
    moments: Moments | None = None  # numeric only
    sketches: dict[str, str] = field(default_factory=dict)  # "kll" | "hll" | "frequent" -> base64
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def missing(self) -> int:
        return self.nulls + self.nan

    @property
    def present(self) -> int:
        return self.count - self.missing

    @property
    def missing_rate(self) -> float:
        return self.missing / self.count if self.count else 0.0

    def to_dict(self) -> dict[str, Any]:
        moments = self.moments
        return {
            "name": self.name,
            "type": self.type,
            "kind": self.kind,
            "count": self.count,
            "nulls": self.nulls,
            "nan": self.nan,
            "min": self.minimum,
            "max": self.maximum,
            "moments": None if moments is None else {"n": moments.n, "mean": moments.mean, "m2": moments.m2},
            "sketches": dict(self.sketches),
            "summary": self.summary,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnProfile:
        if data.get("kind") not in KINDS:
            raise ProfileFormatError(f"column {data.get('name')!r}: unknown kind {data.get('kind')!r}")
        moments = data.get("moments")
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            kind=data["kind"],
            count=int(data["count"]),
            nulls=int(data.get("nulls", 0)),
            nan=int(data.get("nan", 0)),
            minimum=data.get("min"),
            maximum=data.get("max"),
            moments=None if moments is None else Moments(int(moments["n"]), moments["mean"], moments["m2"]),
            sketches=dict(data.get("sketches") or {}),
            summary=dict(data.get("summary") or {}),
        )


@dataclass(frozen=True, slots=True)
class Partition:
    value: str
    rows: int
    files: int = 1


@dataclass(frozen=True, slots=True)
class TableProfile:
    rows: int
    columns: tuple[ColumnProfile, ...]
    partitions: tuple[Partition, ...] = ()
    partition_column: str | None = None
    params: SketchParams = SketchParams()
    meta: dict[str, Any] = field(default_factory=dict)  # context: table, version, engine, computed_at, ...

    def column(self, name: str) -> ColumnProfile | None:
        return next((column for column in self.columns if column.name == name), None)

    def with_meta(self, **meta: Any) -> TableProfile:
        return replace(self, meta={**self.meta, **meta})

    def without_sketches(self) -> TableProfile:
        """The readable part only (a tenth of the size): what pages and reports need."""
        return replace(self, columns=tuple(replace(column, sketches={}) for column in self.columns))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "rows": self.rows,
            "partition_column": self.partition_column,
            "partitions": [{"value": p.value, "rows": p.rows, "files": p.files} for p in self.partitions],
            "params": self.params.to_dict(),
            "meta": self.meta,
            "columns": [column.to_dict() for column in self.columns],
        }

    @classmethod
    def from_dict(cls, data: Any) -> TableProfile:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ProfileFormatError(f"not a {FORMAT} document")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ProfileFormatError(
                f"{FORMAT} version {version!r} is not supported (this code reads {FORMAT_VERSION})"
            )
        try:
            return cls(
                rows=int(data["rows"]),
                columns=tuple(ColumnProfile.from_dict(column) for column in data["columns"]),
                partitions=tuple(
                    Partition(str(p["value"]), int(p["rows"]), int(p["files"])) for p in data["partitions"]
                ),
                partition_column=data.get("partition_column"),
                params=SketchParams(**data.get("params", {})),
                meta=dict(data.get("meta") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProfileFormatError(f"malformed {FORMAT} document: {exc}") from exc
