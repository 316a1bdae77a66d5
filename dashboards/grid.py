"""Bucket grid maths: how wide a dashboard's buckets are and where their edges fall.

Widths follow ``Store.query_range``'s rounding (whole seconds, minutes from a
minute, hours from an hour). Edges are multiples of the width since the
epoch, not of the window start, so a refresh a few seconds later draws the
same buckets and the finished ones can be kept (``dashboards.bucket_cache``).
"""
from __future__ import annotations

import math

from store import Bucket
from store.aggregate import Grid
from store.types import to_ms


def aligned_grid(start: float, width: float) -> Grid:
    """Buckets of ``width`` seconds whose edges are epoch multiples of the width, the first holding ``start``."""
    w = max(to_ms(width), 1)
    return Grid(to_ms(start) // w * w, w)


def whole_bucket(b: Bucket, width: float, end: float, interval: float) -> Bucket:
    """A series' newest bucket is cut short by now (or by its next poll, not
    yet arrived): its increase spread over the whole width would read low.
    Recent data is raw, so its samples are polls: the increase over
    (steps x interval) is the rate."""
    if b.ts + 2 * width <= end or b.count < 1:
        return b
    r = b.avg * width / (b.count * interval)
    return Bucket(b.ts, r, r, r, r, b.count)


def grid_width(span: float, points: int) -> float:
    """The bucket width ``Store.query_range`` uses for ``points`` over ``span`` (seconds).

    Mirrors the store's documented rounding (whole seconds, minutes from a
    minute, hours from an hour, plus one unit of alignment slack);
    tests/dashboards/test_bucket_cache.py checks it against the store.
    """
    points = max(points, 1)
    naive = span / points
    unit = 3600.0 if naive >= 3600 else 60.0 if naive >= 60 else 1.0
    return max(math.ceil((span + unit) / points / unit), 1) * unit


def min_width(span: float) -> float:
    """The narrowest bucket worth asking for: past 3 days, hourly rollup rows
    (168 points a week) instead of scanning 10,000 minute rows per series."""
    return 3600.0 if span > 3 * 86400 else 60.0 if span > 6 * 3600 else 0.0


def rate_points(span: float, interval: float, max_points: int, floor: float = 0.0) -> int:
    """Points for a rate query whose buckets are whole multiples of the poll interval.

    A counter's increase lands in the bucket of the sample that shows it; a
    10-second bucket over 15-second polls is empty or holds 1.5x the rate, so
    buckets are at least two polls wide and an exact multiple of the interval.
    """
    interval = max(interval, 1.0)
    want = max(2 * interval, span / max(max_points, 1), floor)
    k = math.ceil(want / interval)
    while k < 100_000:
        w = k * interval
        unit = 3600.0 if w >= 3600 else 60.0 if w >= 60 else 1.0
        if w % unit == 0:
            p = math.ceil((span + unit) / w)  # the most buckets whose grid width is exactly w
            if p <= max_points and grid_width(span, p) == w:
                return p
        k += 1
    return max(1, min(max_points, int(span // (2 * interval)) or 1))
