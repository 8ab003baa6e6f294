"""The data monitors' use cases: read what a component emits, keep rolling windows, judge them, record.

* :class:`PredictionMonitor` reads ``inference.predictions`` (every routed prediction the engine logs, with the
  feature vector it was given and the node that answered). Per served model version it keeps 1 min / 5 min / 1 h /
  1 day windows of the features and the prediction, and per node of a partitioned model windows of the
  prediction, and judges them against the version's reference profile. The inference engine's sidecar records
  drift (``aspects={"drift"}``); data_processing's sidecar, whose output that feature vector is, records missing
  and out-of-training-range values (``aspects={"missing"}``).
* :class:`SchemaMonitor` reads a topic a component consumes (the order events) and counts each field that breaks
  the published contract: unknown, missing, re-typed.

Both run in the sidecar's background loops, never on the component's request path: the component pays nothing.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from monitoring.domain.judgement import (
    DRIFT,
    ColumnReading,
    GroupInfo,
    Policy,
    WindowReading,
    column_drift,
    judge_column,
    judge_skew,
    judged,
    outside,
    streamed_kinds,
    training_range,
)
from monitoring.domain.schema import Violation, schema_violations
from monitoring.domain.streams import Flow, StreamLabels
from monitoring.domain.windows import TRENDS, WINDOWS, RollingWindows, Trend, Window, WindowView
from monitoring.ports import DataRecorder, EventSource, FeatureGroups, OfflineFeatures, ReferenceSource
from strata_kernel.contracts.events import EventShape, InvalidEvent, PredictionLogged
from strata_kernel.contracts.prediction import NOMINAL_TIME_KEY
from strata_kernel.contracts.schema_check import BoundedFieldNames
from strata_kernel.profiles.model import CATEGORICAL, NUMERIC, TableProfile
from strata_kernel.profiles.reference import ReferenceProfile

log = logging.getLogger(__name__)

REFERENCE_RETRY_SECONDS = 30.0


@dataclass
class _Stream:
    """One served model version: its reference (once fetched) and its windows, overall and per node."""

    labels: StreamLabels
    reference: ReferenceProfile | None = None
    asked_at: float = float("-inf")
    windows: RollingWindows | None = None
    nodes: dict[str, RollingWindows] = field(default_factory=dict)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    columns: tuple[str, ...] = ()
    pending: list[tuple[float, dict[str, object], str | None]] = field(default_factory=list)


class PredictionMonitor:
    def __init__(
        self,
        component: str,
        source: EventSource,
        references: ReferenceSource,
        recorder: DataRecorder,
        *,
        aspects: Collection[str],
        policy: Policy | None = None,
        windows: tuple[Window, ...] = WINDOWS,
        trends: tuple[Trend, ...] = TRENDS,
        clock: Callable[[], float] = time.time,
        batch: int = 500,
        observers: tuple[Callable[[PredictionLogged], None], ...] = (),
    ) -> None:
        self.component = component
        self._observers = observers
        self._source, self._references, self._recorder = source, references, recorder
        self._aspects = frozenset(aspects)
        self._policy = policy or Policy()
        self._windows = windows
        self._trends = tuple(t for t in trends if t.short in windows and t.long in windows)
        self._clock = clock
        self._batch = batch
        self._streams: dict[tuple[str, str], _Stream] = {}
        self._reference_cache: dict[tuple[str, str, str | None, tuple[int, ...]], TableProfile | None] = {}
        self.invalid_events = 0

    # ------------------------------------------------------------------------------------------ consuming
    def consume(self) -> bool:
        """Read the next batch of logged predictions into the windows; True when a full batch came (more wait)."""
        values = self._source.poll(self._batch)
        for value in values:
            self._take(value)
        if values:
            self._source.commit()
        return len(values) >= self._batch

    def _take(self, value: dict[str, object]) -> None:
        try:
            event = PredictionLogged.from_wire(value)
        except InvalidEvent:
            self.invalid_events += 1
            return
        if not event.ok or event.instance is None:
            return
        for observer in self._observers:
            observer(event)
        stream = self._stream(event.model, event.version)
        row: dict[str, object] = dict(event.instance)
        row["prediction"] = event.prediction
        at = event.event_time.timestamp()
        if stream.reference is None:  # keep a little until the reference comes: judged with it, in its kinds
            if len(stream.pending) < 10_000:
                stream.pending.append((at, row, event.node))
            return
        self._add(stream, at, row, event.node)

    def _stream(self, model: str, version: str) -> _Stream:
        key = (model, version)
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = _Stream(StreamLabels(self.component, Flow.RUNTIME, model, version))
        if stream.reference is None and self._clock() - stream.asked_at >= REFERENCE_RETRY_SECONDS:
            stream.asked_at = self._clock()
            self._adopt(stream, self._references.reference(model, version))
        return stream

    def _adopt(self, stream: _Stream, reference: ReferenceProfile | None) -> None:
        if reference is None:
            return
        stream.reference = reference
        prediction = reference.prediction or "prediction"
        stream.columns = (*reference.features, prediction)
        kinds = streamed_kinds(reference.overall, stream.columns)
        stream.ranges = training_range(reference.overall, reference.features)
        stream.windows = RollingWindows(kinds, windows=self._windows)
        pending, stream.pending = stream.pending, []
        for at, row, node in pending:
            self._add(stream, at, row, node)

    def _add(self, stream: _Stream, at: float, row: dict[str, object], node: str | None) -> None:
        reference = stream.reference
        assert reference is not None and stream.windows is not None
        if reference.prediction and reference.prediction != "prediction":
            row[reference.prediction] = row.pop("prediction")
        row = {name: row.get(name) for name in stream.columns}
        hour = _hour(row.get(reference.slice_by)) if reference.slice_by else None
        stream.windows.add(at, row, hour=hour, out_of_range=outside(stream.ranges, row))
        if node is not None and reference.node_by is not None and DRIFT in self._aspects:
            prediction = reference.prediction or "prediction"
            windows = stream.nodes.get(node)
            if windows is None:
                kinds = streamed_kinds(reference.overall, [prediction])
                windows = stream.nodes[node] = RollingWindows(kinds, windows=self._windows)
            windows.add(at, {prediction: row.get(prediction)}, hour=hour)

    # ------------------------------------------------------------------------------------------ judging
    def evaluate(self) -> None:
        """Judge every window of every stream and hand the readings to the recorder."""
        now = self._clock()
        for key, stream in list(self._streams.items()):
            if stream.windows is None:
                continue
            if stream.windows.empty(now):
                self._recorder.forget(stream.labels)
                del self._streams[key]
                continue
            for window in self._windows:
                self._recorder.window(stream.labels, self._judge(stream, stream.windows.view(window, now)))
                for node, windows in stream.nodes.items():
                    view = windows.view(window, now)
                    if view.rows >= self._policy.min_node_samples:
                        self._recorder.window(stream.labels, self._judge(stream, view, node=node), node=node)
            if DRIFT in self._aspects:
                for trend in self._trends:
                    self._recorder.window(stream.labels, self._judge_trend(stream, trend, now))

    def _judge(self, stream: _Stream, view: WindowView, node: str | None = None) -> WindowReading:
        reference = stream.reference
        assert reference is not None
        hours = tuple(sorted(view.bucket.hours))
        base = self._reference_for(stream, hours, node)
        minimum = self._policy.min_node_samples if node is not None else self._policy.min_samples
        ok = judged(view.rows, base, self._policy, min_samples=minimum)
        current = view.bucket.profile.finish()
        prediction_name = reference.prediction or "prediction"
        with_drift = DRIFT in self._aspects

        def reading(name: str) -> ColumnReading | None:
            return judge_column(
                base.column(name) if base is not None else None,
                current.column(name),
                samples=view.rows,
                out_of_range=view.bucket.out_of_range.get(name, 0),
                judged=ok,
                policy=self._policy,
                with_drift=with_drift,
            )

        # the slicing column (hour of day) is not judged: the window is compared with those very hours
        names = tuple(n for n in reference.judged_features() if n != reference.slice_by) if node is None else ()
        features = tuple(r for name in names if (r := reading(name)) is not None)
        return WindowReading(view.window.name, view.rows, ok, features, reading(prediction_name))

    def _judge_trend(self, stream: _Stream, trend: Trend, now: float) -> WindowReading:
        """Trend mode: the short window against the live rows just before it (both need ``min_samples`` rows)."""
        reference = stream.reference
        assert reference is not None and stream.windows is not None
        view = stream.windows.view(trend.short, now)
        prior = stream.windows.prior(trend, now)
        ok = view.rows >= self._policy.min_samples and prior.rows >= self._policy.min_samples
        current, base = view.bucket.profile.finish(), prior.bucket.profile.finish()

        def reading(name: str) -> ColumnReading | None:
            column = current.column(name)
            if column is None or not column.present or base.column(name) is None:
                return None
            return ColumnReading(name, column.missing_rate, False, 0.0,
                                 column_drift(base.column(name), column, judged=ok, policy=self._policy))  # type: ignore[arg-type]  # fmt: skip

        names = tuple(n for n in reference.judged_features() if n != reference.slice_by)
        features = tuple(r for name in names if (r := reading(name)) is not None)
        return WindowReading(trend.name, view.rows, ok, features, reading(reference.prediction or "prediction"))

    def _reference_for(self, stream: _Stream, hours: tuple[int, ...], node: str | None) -> TableProfile | None:
        """The reference of the hours a window covers (merged once per set of hours, then cached)."""
        reference = stream.reference
        assert reference is not None
        key = (stream.labels.model, stream.labels.version, node, hours)
        if key not in self._reference_cache:
            if len(self._reference_cache) > 512:
                self._reference_cache.clear()
            self._reference_cache[key] = reference.for_window(
                hours, node=node, min_rows=self._policy.min_reference_rows
            )
        return self._reference_cache[key]


def _hour(value: object) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        return int(value) % 24
    return None


class SchemaMonitor:
    """Counts the fields of a topic's events that break the topic's published contract."""

    def __init__(
        self, component: str, shape: EventShape, source: EventSource, recorder: DataRecorder, *, batch: int = 500
    ) -> None:
        self.labels = StreamLabels(component, Flow.RUNTIME)
        self._shape, self._source, self._recorder, self._batch = shape, source, recorder, batch
        self._bounded = BoundedFieldNames()

    def consume(self) -> bool:
        values = self._source.poll(self._batch)
        found: Counter[Violation] = Counter()
        for value in values:
            found.update(self._bounded(schema_violations(self._shape, value)))
        if found:
            self._recorder.schema_violations(self.labels, found)
        if values:
            self._source.commit()
        return len(values) >= self._batch


@dataclass
class _Pairs:
    kind: str  # NUMERIC or CATEGORICAL: the kind of the feature's first pair (a pair of another kind is not kept)
    online: deque[Any]
    offline: deque[Any]


class SkewMonitor:
    """Training/serving skew: a sample of served feature vectors (every ``sample_every``-th logged prediction)
    against the offline value of the same entity at the same time, per stored feature.

    A served vector names its entities and nominal time (data_processing adds them; models ignore them). A column
    ``<group>__<feature>`` of a group the feature directory knows is a stored feature: its offline value is the
    group table's latest row at or before the nominal time (the lake's point-in-time read, the training join's
    rule). The last ``max_pairs`` pairs of each feature are compared.
    """

    def __init__(
        self,
        component: str,
        groups: FeatureGroups,
        offline: OfflineFeatures,
        recorder: DataRecorder,
        *,
        policy: Policy | None = None,
        sample_every: int = 5,
        batch: int = 200,
        max_pairs: int = 500,
    ) -> None:
        self.component = component
        self._groups, self._offline, self._recorder = groups, offline, recorder
        self._policy = policy or Policy()
        self._sample_every, self._batch, self._max_pairs = max(sample_every, 1), batch, max_pairs
        self._seen = 0
        self._pending: deque[tuple[str, str, dict[str, object], str]] = deque(maxlen=5 * batch)
        self._known: dict[str, GroupInfo | None] = {}
        self._pairs: dict[tuple[str, str, str], _Pairs] = {}

    def offer(self, event: PredictionLogged) -> None:
        self._seen += 1
        if self._seen % self._sample_every or event.instance is None:
            return
        at = event.instance.get(NOMINAL_TIME_KEY)
        if isinstance(at, str):
            self._pending.append((event.model, event.version, event.instance, at))

    def evaluate(self) -> None:
        taken = [self._pending.popleft() for _ in range(min(self._batch, len(self._pending)))]
        by_group: dict[str, list[tuple[str, str, dict[str, object], str]]] = {}
        for sample in taken:
            for group in self._stored_groups(sample[2]):
                by_group.setdefault(group, []).append(sample)
        for name, samples in by_group.items():
            self._compare(self._known[name], samples)  # type: ignore[arg-type]
        for (model, version, column), pairs in self._pairs.items():
            reading = judge_skew(list(pairs.online), list(pairs.offline), self._policy, pairs.kind)
            self._recorder.skew(StreamLabels(self.component, Flow.RUNTIME, model, version), column, reading)

    def _stored_groups(self, instance: dict[str, object]) -> set[str]:
        found = set()
        for column in instance:
            name = column.split("__", 1)[0] if "__" in column and not column.startswith("__") else None
            if name is None:
                continue
            if name not in self._known:
                self._known[name] = self._groups.group(name)
            if self._known[name] is not None:
                found.add(name)
        return found

    def _compare(self, group: GroupInfo, samples: list[tuple[str, str, dict[str, object], str]]) -> None:
        prefix = f"{group.name}__"
        features = sorted({c[len(prefix) :] for _, _, instance, _ in samples for c in instance if c.startswith(prefix)})
        wanted = [(str(instance.get(group.entity)), at) for _, _, instance, at in samples]
        try:
            rows = self._offline.as_of(group, wanted, features)
        except Exception as exc:  # the lake is away: the sample is lost, the next one is read again
            log.warning("skew: no offline values of %s: %s", group.table, exc)
            return
        for (model, version, instance, _), row in zip(samples, rows, strict=False):
            for feature in features:
                pair = _comparable(instance.get(prefix + feature), row.get(feature))
                if pair is not None:
                    kind, online, offline = pair
                    pairs = self._pairs_of(model, version, prefix + feature, kind)
                    if pairs.kind == kind:
                        pairs.online.append(online)
                        pairs.offline.append(offline)

    def _pairs_of(self, model: str, version: str, column: str, kind: str) -> _Pairs:
        key = (model, version, column)
        if key not in self._pairs:
            self._pairs[key] = _Pairs(kind, deque(maxlen=self._max_pairs), deque(maxlen=self._max_pairs))
        return self._pairs[key]


def _comparable(online: object, offline: object) -> tuple[str, Any, Any] | None:
    """(kind, online, offline) when both values are numbers or both categories (text); None for a missing one."""
    if _number(online) and _number(offline):
        return NUMERIC, float(online), float(offline)  # type: ignore[arg-type]
    if isinstance(online, str) and isinstance(offline, str):
        return CATEGORICAL, online, offline
    return None


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value
