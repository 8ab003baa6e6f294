"""A model version's reference profile: what its training data and its own predictions looked like.

Stored with the version in MLflow as one JSON artifact (``profile/reference.json``, format ``strata.reference``)
that ``json.load`` reads without Strata; the monitors compare windows of live data with it.

Why slices: live traffic in a five-minute window all comes from one hour of the day, while a training set spans
every hour, and an ETD at the dinner peak is longer than the day's average. Comparing the window with the whole
training set would report "drift" every evening. So the reference also keeps one profile per value of a
declared slicing column (the hour of day: ``slice_by``), per node of a partitioned model (``node_by``: the node
that serves the row) and per node and hour; a window is compared with the merge of the slices of the hours it
covers (:meth:`ReferenceProfile.for_window`), widened to neighbouring hours while the slice holds fewer rows than
the comparison needs. Profiles merge exactly (``merge_profiles``), so this costs nothing but storage.

Calendar features (``calendar_features``, e.g. the day of week) change with the date, not with the data: a day's
traffic has one value where the training set has seven. Monitors profile them but never judge them against the
reference in windows shorter than their cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from strata_kernel.profiles.builder import profile_arrow
from strata_kernel.profiles.merge import merge_profiles
from strata_kernel.profiles.model import ProfileFormatError, SketchParams, TableProfile

FORMAT = "strata.reference"
FORMAT_VERSION = 1
#: where a training job stores the reference among the version's run artifacts (``mlflow.log_dict``)
ARTIFACT_PATH = "profile/reference.json"
#: slices are many and small: smaller quantile sketches (KLL k=100: ~2.7% rank error) keep the artifact small
SLICE_PARAMS = SketchParams(kll_k=100)
HOURS = 24


@dataclass(frozen=True, slots=True)
class ReferenceSlice:
    key: dict[str, str]  # {"hour": "19"}, {"node": "country_code=NL"}, {"node": "...", "hour": "19"}
    profile: TableProfile


@dataclass(frozen=True)
class ReferenceProfile:
    """``overall``: every column over every row; ``slices``: the same rows cut by hour, node, or node and hour."""

    overall: TableProfile
    slices: tuple[ReferenceSlice, ...] = ()
    features: tuple[str, ...] = ()
    prediction: str | None = None  # the column holding the version's own predictions
    label: str | None = None
    slice_by: str | None = None  # a column whose floor is the hour of day (0..23), in the training set and online
    node_by: str | None = None
    calendar_features: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    def judged_features(self) -> tuple[str, ...]:
        return tuple(name for name in self.features if name not in self.calendar_features)

    def nodes(self) -> list[str]:
        return sorted({s.key["node"] for s in self.slices if "node" in s.key and "hour" not in s.key})

    def for_window(
        self, hours: Iterable[int] = (), *, node: str | None = None, min_rows: int = 0
    ) -> TableProfile | None:
        """The reference of a window covering ``hours`` (of ``node``, or of every row); None if it has too few rows.

        With no slicing column (or no hours), the node's or overall profile. Otherwise the merge of the hour
        slices covered, widened one neighbouring hour at a time (both sides, cyclically) until it has
        ``min_rows`` rows or covers the whole day.
        """
        wanted = sorted({int(h) % HOURS for h in hours})
        by_hour = self._hour_slices(node)
        if not wanted or not by_hour:
            whole = self.overall if node is None else self._node_slice(node)
            return whole if whole is not None and whole.rows >= min_rows else None
        covered = set(wanted)
        while True:
            chosen = [by_hour[h] for h in sorted(covered) if h in by_hour]
            rows = sum(p.rows for p in chosen)
            if rows >= min_rows and chosen:
                return merge_profiles(chosen).with_meta(hours=sorted(covered), node=node)
            if len(covered) == HOURS:
                return None
            covered |= {(h + step) % HOURS for h in covered for step in (-1, 1)}

    def _hour_slices(self, node: str | None) -> dict[int, TableProfile]:
        found = {}
        for piece in self.slices:
            if "hour" in piece.key and piece.key.get("node") == node:
                found[int(piece.key["hour"])] = piece.profile
        return found

    def _node_slice(self, node: str) -> TableProfile | None:
        return next((s.profile for s in self.slices if s.key == {"node": node}), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "features": list(self.features),
            "prediction": self.prediction,
            "label": self.label,
            "slice_by": self.slice_by,
            "node_by": self.node_by,
            "calendar_features": list(self.calendar_features),
            "meta": self.meta,
            "overall": self.overall.to_dict(),
            "slices": [{"key": s.key, "profile": s.profile.to_dict()} for s in self.slices],
        }

    @classmethod
    def from_dict(cls, data: Any) -> ReferenceProfile:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ProfileFormatError(f"not a {FORMAT} document")
        if data.get("format_version") != FORMAT_VERSION:
            raise ProfileFormatError(f"{FORMAT} version {data.get('format_version')!r} is not supported")
        try:
            return cls(
                overall=TableProfile.from_dict(data["overall"]),
                slices=tuple(
                    ReferenceSlice({str(k): str(v) for k, v in s["key"].items()}, TableProfile.from_dict(s["profile"]))
                    for s in data.get("slices", [])
                ),
                features=tuple(data.get("features", [])),
                prediction=data.get("prediction"),
                label=data.get("label"),
                slice_by=data.get("slice_by"),
                node_by=data.get("node_by"),
                calendar_features=tuple(data.get("calendar_features", [])),
                meta=dict(data.get("meta") or {}),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ProfileFormatError(f"malformed {FORMAT} document: {exc}") from exc


def build_reference(
    table: Any,
    *,
    features: Sequence[str],
    prediction: str | None = None,
    label: str | None = None,
    slice_by: str | None = None,
    node_by: str | None = None,
    calendar_features: Sequence[str] = (),
    meta: dict[str, Any] | None = None,
) -> ReferenceProfile:
    """The reference of the rows of ``table`` (a ``pyarrow.Table`` holding the features, and the prediction,
    label, slicing and node columns named). Columns other than features, prediction and label are not profiled."""
    import pyarrow.compute as pc

    profiled = [c for c in (*features, prediction, label) if c is not None]
    missing = [c for c in (*profiled, slice_by, node_by) if c is not None and c not in table.column_names]
    if missing:
        raise ValueError(f"reference: the table lacks column(s) {', '.join(missing)}")
    outputs = [c for c in (prediction, label) if c is not None]
    slices: list[ReferenceSlice] = []
    hours = _hours(table, slice_by) if slice_by else None
    if hours is not None:
        slices += _slices(table, profiled, {"hour": hours})
    if node_by is not None:
        nodes = pc.cast(table.column(node_by), "string")
        slices += _slices(table, outputs, {"node": nodes})
        if hours is not None and prediction is not None:
            slices += _slices(table, [prediction], {"node": nodes, "hour": hours})
    return ReferenceProfile(
        overall=profile_arrow(table.select(profiled)),
        slices=tuple(slices),
        features=tuple(features),
        prediction=prediction,
        label=label,
        slice_by=slice_by,
        node_by=node_by,
        calendar_features=tuple(c for c in calendar_features if c in features),
        meta=dict(meta or {}),
    )


def _hours(table: Any, column: str) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pc.cast(table.column(column), pa.float64())
    return pc.cast(pc.floor(values), pa.int64()).cast(pa.string())


def _slices(table: Any, columns: list[str], keys: dict[str, Any]) -> list[ReferenceSlice]:
    """One profile of ``columns`` per distinct combination of the ``keys`` arrays (rows with a null key: none)."""
    import pyarrow as pa

    names = list(keys)
    keyed = pa.table({f"__key_{n}": keys[n] for n in names}).append_column("__row", pa.array(range(table.num_rows)))
    groups = keyed.group_by([f"__key_{n}" for n in names]).aggregate([("__row", "list")])
    found = []
    for row in groups.to_pylist():
        key = {n: row[f"__key_{n}"] for n in names}
        if any(value is None for value in key.values()):
            continue
        subset = table.select(columns).take(pa.array(row["__row_list"]))
        found.append(ReferenceSlice(key, profile_arrow(subset, params=SLICE_PARAMS)))
    return sorted(found, key=lambda s: sorted(s.key.items()))
