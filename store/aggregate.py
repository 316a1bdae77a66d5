"""Bucketed aggregation SQL and the choice of source table per time slice.

Used by range queries (into display buckets) and by rollups (into 1-minute
and 1-hour rows): the same GROUP BY either way, so a rollup row and a query
bucket over raw data agree exactly.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from sqlalchemy import BigInteger, ColumnElement, Select, Table, and_, bindparam, case, func, literal, select, union_all

from store.schema import samples, samples_1h, samples_1m

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
FOREVER = 2**62


@dataclass(frozen=True)
class Source:
    """A table of (series_id, ts, ...) readable as min/max/sum/count/last."""

    name: str
    table: Table
    res_ms: int  # 1 for raw samples: any ms is a row of its own

    @property
    def is_raw(self) -> bool:
        return self.table is samples

    def cols(self) -> tuple[ColumnElement, ColumnElement, ColumnElement, ColumnElement, ColumnElement]:
        c = self.table.c
        if self.is_raw:
            return c.value, c.value, c.value, literal(1), c.value
        return c.min, c.max, c.sum, c.count, c.last


RAW = Source("raw", samples, 1)
M1 = Source("1m", samples_1m, MINUTE_MS)
H1 = Source("1h", samples_1h, HOUR_MS)


@dataclass(frozen=True)
class Grid:
    """Display buckets ``[origin + i*width, origin + (i+1)*width)``."""

    origin_ms: int
    width_ms: int


def make_grid(start_ms: int, end_ms: int, points: int) -> Grid:
    """At most ``points`` buckets covering [start, end], aligned for rollups.

    The width is ceil(span/points) rounded up to whole seconds, minutes (when
    at least a minute) or hours (when at least an hour), and the origin is
    aligned the same way, so every rollup row falls into exactly one bucket
    and a query answers the same from rollups as from raw data. Including
    the alignment slack in the width keeps the count within ``points``.
    """
    points = max(int(points), 1)
    span = max(end_ms - start_ms, 1)
    naive = math.ceil(span / points)
    unit = HOUR_MS if naive >= HOUR_MS else MINUTE_MS if naive >= MINUTE_MS else 1000
    width = max(math.ceil((span + unit) / points / unit), 1) * unit
    return Grid(origin_ms=start_ms // unit * unit, width_ms=width)


Segment = tuple[Source, int, int]  # (source, lo ms inclusive, hi ms exclusive)


def plan(lo: int, hi: int, width_ms: int, avail: dict[Source, tuple[int, int]]) -> list[Segment]:
    """Split [lo, hi) into slices, each read from one source.

    ``avail`` holds the span each source has data for (raw: since the raw
    retention horizon; rollups: from their horizon up to their watermark).
    Preferred is the coarsest source whose resolution fits in a bucket, then
    finer ones; a source coarser than a bucket is the last resort, for ranges
    whose raw data retention has already removed. Slice boundaries are rounded
    up to the coarser neighbour's resolution so no rollup row is half in a
    slice, which would count its samples twice.
    """
    order = [s for s in (H1, M1, RAW) if s.res_ms <= width_ms] + \
            [s for s in (RAW, M1, H1) if s.res_ms > width_ms]
    cuts = sorted({lo, hi, *(b for a in avail.values() for b in a if lo < b < hi)})
    slices: list[list] = []
    for a, b in pairwise(cuts):
        src = next((s for s in order if avail[s][0] <= a and b <= avail[s][1]), RAW)
        if slices and slices[-1][0] is src:
            slices[-1][2] = b
        else:
            slices.append([src, a, b])
    for left, right in pairwise(slices):
        res = max(left[0].res_ms, right[0].res_ms)
        cut = min(-(-left[2] // res) * res, hi)
        left[2] = right[1] = max(cut, left[1])
        right[2] = max(right[2], right[1])  # a slice swallowed by rounding stays empty, not reversed
    return [(s, a, b) for s, a, b in slices if a < b]


def _scope(source: Source, series_ids: Sequence[int] | None, lo: int, hi: int) -> list[ColumnElement]:
    t = source.table
    where = [t.c.ts >= lo, t.c.ts < hi]
    if series_ids is not None:
        where.append(t.c.series_id.in_(list(series_ids)))
    return where


def bucket_select(source: Source, grid: Grid, lo: int, hi: int,
                  series_ids: Sequence[int] | None = None) -> Select:
    """Per (series, bucket): ts (bucket start ms), min, max, sum, count, last_ts, last.

    "Last" is the value at the bucket's newest timestamp. It is found by
    joining the aggregate back to the table on its primary key at MAX(ts):
    one index lookup per bucket, and the same SQL on SQLite (which has no
    ordered array_agg) and PostgreSQL.
    """
    t = source.table
    mn, mx, sm, cnt, _ = source.cols()
    origin = bindparam("origin", grid.origin_ms, type_=BigInteger)
    width = bindparam("width", grid.width_ms, type_=BigInteger)
    rows = select(
        t.c.series_id, ((t.c.ts - origin) // width * width + origin).label("bts"), t.c.ts,
        mn.label("mn"), mx.label("mx"), sm.label("sm"), cnt.label("cnt"),
    ).where(*_scope(source, series_ids, lo, hi)).subquery("r")
    agg = select(
        rows.c.series_id, rows.c.bts, func.min(rows.c.mn).label("mn"), func.max(rows.c.mx).label("mx"),
        func.sum(rows.c.sm).label("sm"), func.sum(rows.c.cnt).label("cnt"),
        func.max(rows.c.ts).label("lt"),
    ).group_by(rows.c.series_id, rows.c.bts).subquery("a")
    last = source.cols()[4]
    return select(
        agg.c.series_id, agg.c.bts.label("ts"), agg.c.mn.label("min"), agg.c.mx.label("max"),
        agg.c.sm.label("sum"), agg.c.cnt.label("count"), agg.c.lt.label("last_ts"), last.label("last"),
    ).select_from(agg.join(t, and_(t.c.series_id == agg.c.series_id, t.c.ts == agg.c.lt)))


def increments_select(segments: Sequence[Segment], grid: Grid, series_ids: Sequence[int]) -> Select:
    """Per (series, bucket): reset-aware counter increase and sample count.

    Points from all slices are put in one stream before LAG(), so the step
    across a slice boundary counts too. A rollup row stands for its bucket's
    last value. A drop means the counter restarted from zero, so the increase
    of that step is the new value itself. The first point of the range has
    no predecessor and adds nothing.
    """
    parts = [select(s.table.c.series_id, s.table.c.ts, s.cols()[4].label("v"))
             .where(*_scope(s, series_ids, lo, hi)) for s, lo, hi in segments]
    pts = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("p")
    origin = bindparam("origin", grid.origin_ms, type_=BigInteger)
    width = bindparam("width", grid.width_ms, type_=BigInteger)
    prev = func.lag(pts.c.v).over(partition_by=pts.c.series_id, order_by=pts.c.ts)
    steps = select(pts.c.series_id, ((pts.c.ts - origin) // width * width + origin).label("bts"),
                   pts.c.v, prev.label("prev")).subquery("s")
    inc = case((steps.c.prev.is_(None), 0.0), (steps.c.v >= steps.c.prev, steps.c.v - steps.c.prev),
               else_=steps.c.v)
    return select(steps.c.series_id, steps.c.bts.label("ts"), func.sum(inc).label("inc"),
                  func.count().label("count")).group_by(steps.c.series_id, steps.c.bts)
