"""Rolling windows of live rows (1 min, 5 min, 1 h, 1 day), each a chain of mergeable buckets.

A window is judged every few seconds, so it is kept as buckets of a fixed span (a tenth or so of the window) that
each hold a :class:`~strata_kernel.profiles.stream.StreamingProfile`; judging merges the buckets that fall in the
window (sketches merge exactly) and forgets the older ones. Several windows side by side let a trend change be
seen at the period it happens on (Yokoyama §3.3: time-series analysis over several periods): a sudden shift in the
1-minute and 5-minute windows, a slow one only in the hour or the day. Rows are bucketed by their own event time,
so a monitor that restarts and replays its topic rebuilds the same windows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from strata_kernel.profiles.model import SketchParams
from strata_kernel.profiles.stream import StreamingProfile


@dataclass(frozen=True, slots=True)
class Window:
    name: str  # the `window` label: "1m", "5m", "1h", "1d"
    seconds: int
    bucket_seconds: int


WINDOWS: tuple[Window, ...] = (
    Window("1m", 60, 10),
    Window("5m", 300, 30),
    Window("1h", 3600, 300),
    Window("1d", 86400, 3600),
)


@dataclass(frozen=True, slots=True)
class Trend:
    """Trend mode: the ``short`` window judged against the live rows just before it, the buckets of ``long`` that
    end before ``short`` begins (for 1m: the 4 minutes before it; for 5m: up to the 55 minutes before it).

    Against the reference a window says "live traffic is unlike training"; this says "live traffic changed just
    now", whatever its distance to training (Yokoyama §3.3: a change of trend, seen at its period).
    """

    name: str  # the `window` label: "1m_vs_prior", "5m_vs_prior"
    short: Window
    long: Window


TRENDS: tuple[Trend, ...] = (
    Trend("1m_vs_prior", WINDOWS[0], WINDOWS[1]),
    Trend("5m_vs_prior", WINDOWS[1], WINDOWS[2]),
)
#: live windows keep smaller quantile sketches than a table profile: many of them sit in a sidecar's memory
WINDOW_PARAMS = SketchParams(kll_k=200, hll_lg_k=10, frequent_lg_max=8)


@dataclass
class Bucket:
    profile: StreamingProfile
    hours: Counter[int] = field(default_factory=Counter)  # hour of day of each row (the reference's slice)
    out_of_range: Counter[str] = field(default_factory=Counter)  # per column: values outside the training range

    def merge(self, other: Bucket) -> None:
        self.profile.merge(other.profile)
        self.hours.update(other.hours)
        self.out_of_range.update(other.out_of_range)


@dataclass
class WindowView:
    """What one window holds now: its rows' profile, the hours they came from, out-of-range counts."""

    window: Window
    rows: int
    bucket: Bucket


class RollingWindows:
    """The rows of one stream (a model version, a node of it) in every window of ``windows``."""

    def __init__(
        self,
        kinds: Mapping[str, str] | None = None,
        *,
        windows: Iterable[Window] = WINDOWS,
        params: SketchParams = WINDOW_PARAMS,
    ) -> None:
        self._kinds = dict(kinds or {})
        self._params = params
        self.windows = tuple(windows)
        self._buckets: dict[str, dict[int, Bucket]] = {w.name: {} for w in self.windows}

    def add(
        self, at: float, row: Mapping[str, Any], *, hour: int | None = None, out_of_range: Iterable[str] = ()
    ) -> None:
        """One row observed at ``at`` (Unix seconds), its hour of day and the columns out of training range."""
        outside = list(out_of_range)
        for window in self.windows:
            index = int(at // window.bucket_seconds)
            bucket = self._buckets[window.name].get(index)
            if bucket is None:
                bucket = self._buckets[window.name][index] = Bucket(StreamingProfile(self._kinds, params=self._params))
            bucket.profile.add(row)
            if hour is not None:
                bucket.hours[hour] += 1
            bucket.out_of_range.update(outside)

    def view(self, window: Window, now: float) -> WindowView:
        """The rows of the last ``window.seconds`` before ``now`` (to bucket granularity); older buckets go."""
        first = int((now - window.seconds) // window.bucket_seconds) + 1
        buckets = self._buckets[window.name]
        for index in [i for i in buckets if i < first]:
            del buckets[index]
        total = Bucket(StreamingProfile(self._kinds, params=self._params))
        for index in sorted(buckets):
            total.merge(buckets[index])
        return WindowView(window, total.profile.rows, total)

    def prior(self, trend: Trend, now: float) -> WindowView:
        """The baseline of ``trend``: the rows of ``trend.long`` in buckets that end before ``trend.short`` begins."""
        short, long = trend.short, trend.long
        short_start = (int((now - short.seconds) // short.bucket_seconds) + 1) * short.bucket_seconds
        first = int((now - long.seconds) // long.bucket_seconds) + 1
        total = Bucket(StreamingProfile(self._kinds, params=self._params))
        for index, bucket in sorted(self._buckets[long.name].items()):
            if index >= first and (index + 1) * long.bucket_seconds <= short_start:
                total.merge(bucket)
        return WindowView(long, total.profile.rows, total)

    def empty(self, now: float) -> bool:
        """True when no window holds a row any more (the stream stopped a day ago: forget it)."""
        return not any(
            index > (now - window.seconds) // window.bucket_seconds
            for window in self.windows
            for index in self._buckets[window.name]
        )
