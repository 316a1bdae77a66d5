"""Reading a promise's SLI over one window from the store.

Event-based: the reset-aware increase of the good (or bad) and total
counters, summed over every series the selectors match. Time-based: the
window is cut into slices (30 s, at most 300 of them, so 30 days are read
from hourly rollups), the measured value of each slice is computed over all
matching series, and the bad share is the share of slices outside the bound.
A slice is the unit of time that counts: one bad poll makes its slice bad.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from core.histograms import histogram_quantile
from promises.burn import Reading
from promises.config import Events, Selector, Threshold

SLICE = 30.0
MAX_SLICES = 300


class Source(Protocol):
    def increase(self, name: str, matchers: Mapping[str, str] | None, start: float,
                 end: float) -> list[tuple[Any, float]]: ...

    def query_range(self, name: str, matchers: Mapping[str, str] | None, start: float, end: float,
                    points: int = 500, mode: str = "value") -> list[Any]: ...


def _increase(src: Source, sels: Iterable[Selector], start: float, end: float) -> tuple[float, int]:
    """(summed increase, matching series)."""
    total, n = 0.0, 0
    for sel in sels:
        for info, inc in src.increase(sel.metric, None, start, end):
            if sel.matches(info.labels):
                total += inc
                n += 1
    return total, n


def events(ev: Events, src: Source, now: float, window: float) -> tuple[Reading, float | None]:
    """(reading, the shown share: of bad events where the SLI names them, else of good ones);
    both say nothing below ``min_events``."""
    start = now - window
    total, n = _increase(src, ev.total, start, now)
    part = _increase(src, ev.good or ev.bad, start, now)[0]
    bad = total - part if ev.good else part
    if total <= 0 or total < ev.min_events:
        return Reading(window, None, total, n), None
    share = min(max(bad / total, 0.0), 1.0)
    return Reading(window, share, total, n), share if ev.bad else 1.0 - share


def _ranges(src: Source, sels: Iterable[Selector], start: float, end: float, points: int, mode: str) -> list[Any]:
    return [r for sel in sels for r in src.query_range(sel.metric, None, start, end, points, mode)
            if sel.matches(r.series.labels)]


def _mean(ranges: Sequence[Any]) -> dict[float, float]:
    num: dict[float, float] = defaultdict(float)
    den: dict[float, float] = defaultdict(float)
    for r in ranges:
        for b in r.points:
            num[b.ts] += b.avg * b.count
            den[b.ts] += b.count
    return {ts: num[ts] / den[ts] for ts in num if den[ts] > 0}


def _quantile(ranges: Sequence[Any], q: float) -> dict[float, float]:
    les: dict[float, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for r in ranges:
        try:
            le = float(r.series.labels.get("le", "nan"))
        except ValueError:
            continue
        for b in r.points:
            les[b.ts][le] += b.avg
    out = {}
    for ts, buckets in les.items():
        v = histogram_quantile(q, buckets)
        if v is not None:  # no request in the slice: no latency, neither good nor bad
            out[ts] = v
    return out


def _sum_by_ts(ranges: Sequence[Any]) -> dict[float, float]:
    out: dict[float, float] = defaultdict(float)
    for r in ranges:
        for b in r.points:
            out[b.ts] += b.avg
    return out


def measured(th: Threshold, src: Source, start: float, end: float, points: int) -> dict[float, float]:
    """Slice start -> the measured value of the slice."""
    if th.measure == "ratio":
        num = _sum_by_ts(_ranges(src, th.numerator, start, end, points, "rate"))
        den = _sum_by_ts(_ranges(src, th.denominator, start, end, points, "rate"))
        return {ts: num.get(ts, 0.0) / d for ts, d in den.items() if d > 0}
    assert th.metric is not None
    if th.measure == "quantile":
        return _quantile(_ranges(src, [th.metric], start, end, points, "rate"), th.quantile)
    return _mean(_ranges(src, [th.metric], start, end, points, "value"))


def slices_for(window: float) -> int:
    return max(1, min(MAX_SLICES, int(window // SLICE)))


def threshold(th: Threshold, src: Source, now: float, window: float) -> tuple[Reading, float | None]:
    """(reading, the measured value over the whole window as one slice)."""
    per = measured(th, src, now - window, now, slices_for(window))
    if not per:
        return Reading(window, None, 0.0, 0), None
    bad = sum(1 for v in per.values() if not th.meets(v))
    whole = measured(th, src, now - window, now, 1)
    value = next(iter(whole.values()), None) if len(whole) == 1 else _weighted(whole)
    return Reading(window, bad / len(per), float(len(per)), 1), value


def _weighted(values: Mapping[float, float]) -> float | None:
    # One requested point can come back as two buckets when the window straddles the grid.
    return sum(values.values()) / len(values) if values else None



def series(p_events: Events | None, p_threshold: Threshold | None, src: Source, start: float, end: float,
           points: int) -> list[tuple[float, float]]:
    """The SLI per bucket over [start, end], oldest first: a good share, or the measured value."""
    if p_threshold is not None:
        return sorted(measured(p_threshold, src, start, end, points).items())
    assert p_events is not None
    total = _sum_by_ts(_ranges(src, p_events.total, start, end, points, "rate"))
    part = _sum_by_ts(_ranges(src, p_events.good or p_events.bad, start, end, points, "rate"))
    out = []
    for ts, t in sorted(total.items()):
        if t > 0:
            share = min(max(part.get(ts, 0.0) / t, 0.0), 1.0)
            out.append((ts, share))  # the good share, or the bad share where the SLI counts bad events
    return out
