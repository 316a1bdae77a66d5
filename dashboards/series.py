"""Pure helpers over the store's value types: drawable lines, sums, ratios, quantiles.

No I/O: pages and the promise cards turn the ranges a :class:`dashboards.fetch.Fetch`
read into what a figure draws, and tests call these without a browser or a
database.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from core.histograms import histogram_quantile
from store import SeriesRange


@dataclass
class Line:
    """One drawable series: x in epoch milliseconds, None where data is missing."""

    name: str
    x: list[int] = field(default_factory=list)
    y: list[float | None] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)

    def values(self) -> list[float]:
        return [v for v in self.y if v is not None]


def label_match(labels: Mapping[str, str], match: Mapping[str, str]) -> bool:
    return all(re.fullmatch(rx, labels.get(k, "")) is not None for k, rx in match.items())


def bucket_width(points: Sequence[Any]) -> float:
    """Bucket width in seconds, from the smallest step between consecutive buckets."""
    steps = [b.ts - a.ts for a, b in pairwise(points) if b.ts > a.ts]
    return min(steps) if steps else 0.0


def sig(v: float | None, digits: int = 5) -> float | None:
    """Round to significant digits: smaller JSON, no visible difference."""
    if v is None or not math.isfinite(v):
        return None
    return float(f"{v:.{digits}g}")


GAP_POLLS = 2.5  # this many poll intervals without a sample is a gap


def with_gaps(pairs: Sequence[tuple[float, float | None]], width: float,
              interval: float = 15.0) -> tuple[list[int], list[float | None]]:
    """Insert a None wherever buckets are missing, so a down target is a gap, not a line across it.

    One empty bucket between two polls (buckets barely wider than the poll
    interval) is aliasing, not an outage: a gap needs ``GAP_POLLS`` intervals.
    A series polled less often than its buckets (a family every minute or
    five, shown in 3 s buckets) is judged by its own typical step, the
    median: else every one of its samples stood alone and no line was drawn.
    """
    xs: list[int] = []
    ys: list[float | None] = []
    prev = None
    steps = sorted(b[0] - a[0] for a, b in pairwise(pairs) if b[0] > a[0])
    typical = steps[len(steps) // 2] if steps else 0.0
    limit = max(1.5 * max(width, typical), GAP_POLLS * interval)
    for ts, v in pairs:
        if prev is not None and width > 0 and ts - prev > limit:
            xs.append(int((prev + width) * 1000))
            ys.append(None)
        xs.append(int(ts * 1000))
        ys.append(sig(v))
        prev = ts
    return xs, ys


def line(r: SeriesRange, pick: str = "avg", name: str | None = None, scale: float = 1.0) -> Line:
    pairs = [(b.ts, getattr(b, pick) * scale) for b in r.points]
    xs, ys = with_gaps(pairs, bucket_width(r.points))
    return Line(name or series_name(r.series.labels), xs, ys, dict(r.series.labels))


def series_name(labels: Mapping[str, str], drop: Iterable[str] = ("kind",)) -> str:
    skip = set(drop)
    parts = [v for k, v in sorted(labels.items()) if k not in skip]
    return " ".join(parts) or "value"


def sum_by_ts(ranges: Iterable[SeriesRange], pick: str = "avg") -> dict[float, float]:
    out: dict[float, float] = defaultdict(float)
    for r in ranges:
        for b in r.points:
            out[b.ts] += getattr(b, pick)
    return dict(out)


def max_by_ts(ranges: Iterable[SeriesRange], pick: str = "max") -> dict[float, float]:
    out: dict[float, float] = {}
    for r in ranges:
        for b in r.points:
            v = getattr(b, pick)
            out[b.ts] = v if b.ts not in out else max(out[b.ts], v)
    return out


def group_sum(ranges: Iterable[SeriesRange], label: str, pick: str = "avg",
              combine: str = "sum") -> dict[str, dict[float, float]]:
    """One line per value of ``label``: its series summed (counts) or, with ``combine="max"``,
    their maximum (durations and ages: the oldest transaction of several databases is not their sum)."""
    groups: dict[str, list[SeriesRange]] = defaultdict(list)
    for r in ranges:
        groups[r.series.labels.get(label, "")].append(r)
    join = max_by_ts if combine == "max" else sum_by_ts
    return {k: join(v, pick) for k, v in groups.items()}


def ratio_series(num: Mapping[float, float], den: Mapping[float, float]) -> list[tuple[float, float | None]]:
    """num/den per bucket; a bucket with no denominator is a gap, not a zero."""
    return [(ts, (num.get(ts, 0.0) / d) if d else None) for ts, d in sorted(den.items())]


def pairs_line(name: str, pairs: Sequence[tuple[float, float | None]], width: float | None = None,
               scale: float = 1.0) -> Line:
    if width is None:
        ts = [p[0] for p in pairs]
        steps = [b - a for a, b in pairwise(ts) if b > a]
        width = min(steps) if steps else 0.0
    xs, ys = with_gaps([(t, None if v is None else v * scale) for t, v in pairs], width)
    return Line(name, xs, ys)


def total_increase(ranges: Iterable[SeriesRange]) -> float:
    """Sum of increases from rate buckets: rate x bucket width, bucket by bucket."""
    total = 0.0
    for r in ranges:
        w = bucket_width(r.points)
        total += sum(b.avg * w for b in r.points) if w else 0.0
    return total


def weighted_mean(ranges: Iterable[SeriesRange]) -> float | None:
    num = den = 0.0
    for r in ranges:
        for b in r.points:
            num += b.avg * b.count
            den += b.count
    return num / den if den else None


def quantile_by_ts(ranges: Iterable[SeriesRange], q: float, group: str | None = None
                   ) -> dict[str, list[tuple[float, float | None]]]:
    """Per group (a label's value, or one group) and bucket: the histogram quantile of bucket rates."""
    acc: dict[str, dict[float, dict[float, float]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))
    for r in ranges:
        try:
            le = float(r.series.labels.get("le", "nan"))
        except ValueError:
            continue
        if math.isnan(le):
            continue
        g = r.series.labels.get(group, "") if group else ""
        for b in r.points:
            acc[g][b.ts][le] += b.avg
    return {g: [(ts, histogram_quantile(q, les)) for ts, les in sorted(per_ts.items())]
            for g, per_ts in acc.items()}


def overall_quantile(ranges: Iterable[SeriesRange], q: float) -> float | None:
    les: dict[float, float] = defaultdict(float)
    for r in ranges:
        try:
            le = float(r.series.labels.get("le", "nan"))
        except ValueError:
            continue
        w = bucket_width(r.points)
        les[le] += sum(b.avg * w for b in r.points) if w else sum(b.avg for b in r.points)
    return histogram_quantile(q, {k: v for k, v in les.items() if not math.isnan(k)})


def spans_where(r: SeriesRange, pred: Callable[[Any], bool]) -> list[tuple[float, float]]:
    width = bucket_width(r.points) or 15.0
    out: list[tuple[float, float]] = []
    for b in r.points:
        if pred(b):
            if out and b.ts - out[-1][1] <= width * 0.5:
                out[-1] = (out[-1][0], b.ts + width)
            else:
                out.append((b.ts, b.ts + width))
    return out
