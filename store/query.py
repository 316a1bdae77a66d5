"""Reads: raw points, downsampled ranges, counter increases, latest values
and the status tables. Every function takes an open connection so the
facade decides the transaction (one snapshot per call)."""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from store.aggregate import (
    FOREVER,
    H1,
    M1,
    RAW,
    Grid,
    Segment,
    Source,
    bucket_select,
    increments_select,
    make_grid,
    plan,
)
from store.config import Retention
from store.rollup import horizons, watermarks
from store.schema import documents as documents_t
from store.schema import samples, series
from store.schema import target_status as target_status_t
from store.schema import workers as workers_t
from store.series import select_series
from store.types import Bucket, Document, SeriesInfo, SeriesPoints, SeriesRange, TargetStatus, Worker, to_ms, to_s

_CHUNK = 500  # series per statement: bounded IN lists on both dialects


def _chunks(infos: Sequence[SeriesInfo]) -> Iterator[list[int]]:
    for i in range(0, len(infos), _CHUNK):
        yield [s.id for s in infos[i:i + _CHUNK]]


def availability(conn: Connection, now_ms: int, retention: Retention) -> dict[Source, tuple[int, int]]:
    """The span each table should hold data for, from retention and rollup watermarks."""
    h = horizons(now_ms, retention)
    wm = watermarks(conn)
    return {RAW: (h[RAW], FOREVER), M1: (h[M1], wm[M1]), H1: (h[H1], wm[H1])}


def raw(conn: Connection, name: str, matchers: Mapping[str, str] | None,
        start: float, end: float) -> list[SeriesPoints]:
    infos = select_series(conn, name, matchers)
    pts: dict[int, list[tuple[float, float]]] = {s.id: [] for s in infos}
    for ids in _chunks(infos):
        q = (select(samples.c.series_id, samples.c.ts, samples.c.value)
             .where(samples.c.series_id.in_(ids), samples.c.ts >= to_ms(start), samples.c.ts <= to_ms(end))
             .order_by(samples.c.series_id, samples.c.ts))
        for sid, ts, value in conn.execute(q):
            pts[sid].append((to_s(ts), value))
    return [SeriesPoints(s, pts[s.id]) for s in infos]


def query_range(conn: Connection, name: str, matchers: Mapping[str, str] | None, start: float,
                end: float, points: int, mode: str, now_ms: int,
                retention: Retention) -> list[SeriesRange]:
    """Downsample [start, end] into at most ``points`` buckets per series.

    The first bucket starts at the grid origin (``start`` rounded down to the
    bucket alignment), and is whole; a slice served from rollups likewise
    ends with the whole rollup row that contains ``end``. Each time slice
    reads the coarsest table that still resolves a bucket; partial buckets at
    slice boundaries are merged here (min of mins, max of maxes, sums,
    counts, newest last).
    """
    if mode not in ("value", "rate"):
        raise ValueError(f"mode must be 'value' or 'rate', not {mode!r}")
    infos = select_series(conn, name, matchers)
    if not infos:
        return []
    grid = make_grid(to_ms(start), to_ms(end), points)
    return read_grid(conn, infos, grid, plan_range(conn, grid, to_ms(end), now_ms, retention), mode)


def plan_range(conn: Connection, grid: Grid, end_ms: int, now_ms: int, retention: Retention,
               avail: dict[Source, tuple[int, int]] | None = None) -> list[Segment]:
    """The time slices a range read of [grid origin, end] on ``grid`` reads, each from one table.

    Exposed with :func:`read_grid` so a caller that keeps finished buckets
    (the dashboard's bucket cache) can read only a later part of the same
    plan and see which table answered the part it keeps. ``avail`` (from
    :func:`availability`) saves its two reads when many ranges are planned
    at one moment.
    """
    if avail is None:
        avail = availability(conn, now_ms, retention)
    return plan(grid.origin_ms, end_ms + 1, grid.width_ms, avail)


def read_grid(conn: Connection, infos: Sequence[SeriesInfo], grid: Grid, segments: Sequence[Segment],
              mode: str) -> list[SeriesRange]:
    """Buckets of ``grid`` over ``segments`` (a :func:`plan_range`, or a later part of one).

    A bucket is built only from rows inside the segments, so reading a plan
    from a bucket edge on gives, for every bucket past that edge, exactly
    what reading the whole plan gives. In rate mode a bucket's first step
    starts at the sample before it: past the first bucket read, buckets match
    when that first bucket holds a sample.
    """
    if not segments:
        return [SeriesRange(s, []) for s in infos]
    if mode == "rate":
        buckets = _rate_buckets(conn, segments, grid, infos)
    else:
        buckets = _value_buckets(conn, segments, grid, infos)
    return [SeriesRange(s, buckets.get(s.id, [])) for s in infos]


def _value_buckets(conn: Connection, segments: Sequence[Segment], grid: Grid,
                   infos: Sequence[SeriesInfo]) -> dict[int, list[Bucket]]:
    if len(segments) == 1:  # the common case: nothing to merge, skip the dict
        source, lo, hi = segments[0]
        out: dict[int, list[Bucket]] = {}
        for ids in _chunks(infos):
            q = bucket_select(source, grid, lo, hi, ids).order_by("series_id", "ts")
            for sid, bts, mn, mx, sm, cnt, _lt, last in conn.execute(q):
                out.setdefault(sid, []).append(Bucket(bts / 1000.0, mn, mx, sm / cnt, last, int(cnt)))
        return out
    acc: dict[tuple[int, int], list[Any]] = {}
    for source, lo, hi in segments:
        for ids in _chunks(infos):
            for sid, bts, mn, mx, sm, cnt, lt, last in conn.execute(bucket_select(source, grid, lo, hi, ids)):
                cur = acc.get((sid, bts))
                if cur is None:
                    acc[(sid, bts)] = [mn, mx, sm, cnt, lt, last]
                    continue
                cur[0] = min(cur[0], mn)
                cur[1] = max(cur[1], mx)
                cur[2] += sm
                cur[3] += cnt
                if lt > cur[4]:
                    cur[4], cur[5] = lt, last
    out = {}
    for (sid, bts), (mn, mx, sm, cnt, _lt, last) in sorted(acc.items()):
        out.setdefault(sid, []).append(Bucket(to_s(bts), mn, mx, sm / cnt, last, int(cnt)))
    return out


def _rate_buckets(conn: Connection, segments: Sequence[Segment], grid: Grid,
                  infos: Sequence[SeriesInfo]) -> dict[int, list[Bucket]]:
    seconds = grid.width_ms / 1000.0
    out: dict[int, list[Bucket]] = {}
    for ids in _chunks(infos):
        rows = conn.execute(increments_select(segments, grid, ids).order_by("series_id", "ts"))
        for sid, bts, inc, cnt in rows:
            r = inc / seconds
            out.setdefault(sid, []).append(Bucket(to_s(bts), r, r, r, r, int(cnt)))
    return out


def increase(conn: Connection, name: str, matchers: Mapping[str, str] | None, start: float,
             end: float, now_ms: int, retention: Retention) -> list[tuple[SeriesInfo, float]]:
    """Reset-aware increase between the first and last sample inside [start, end].

    Reads the finest data available for each part of the window (width 0
    prefers raw). No extrapolation to the window edges, unlike PromQL.
    """
    infos = select_series(conn, name, matchers)
    lo, hi = to_ms(start), to_ms(end) + 1
    segments = plan(lo, hi, 0, availability(conn, now_ms, retention))
    grid = Grid(lo, hi - lo)  # one bucket: the whole window
    found: dict[int, float] = {}
    for ids in _chunks(infos):
        for sid, _bts, inc, _cnt in conn.execute(increments_select(segments, grid, ids)):
            found[sid] = float(inc)
    return [(s, found[s.id]) for s in infos if s.id in found]


def latest(conn: Connection, name: str, matchers: Mapping[str, str] | None,
           min_ts: float | None) -> list[tuple[SeriesInfo, float, float]]:
    infos = select_series(conn, name, matchers)
    out = []
    for ids in _chunks(infos):
        # Correlated ORDER BY ts DESC LIMIT 1 per series: one primary-key probe
        # each, where GROUP BY series_id would scan every sample.
        def newest(col: Any) -> Any:
            return (select(col).where(samples.c.series_id == series.c.id)
                    .order_by(samples.c.ts.desc()).limit(1).scalar_subquery())
        q = select(series.c.id, newest(samples.c.ts), newest(samples.c.value)).where(series.c.id.in_(ids))
        got = {sid: (ts, v) for sid, ts, v in conn.execute(q) if ts is not None}
        for s in infos:
            if s.id in got and (min_ts is None or got[s.id][0] >= to_ms(min_ts)):
                out.append((s, to_s(got[s.id][0]), got[s.id][1]))
    return out


def target_status(conn: Connection) -> list[TargetStatus]:
    t = target_status_t.c
    rows = conn.execute(select(t.target, t.kind, t.up, t.last_attempt, t.last_success, t.last_error,
                               t.duration, t.interval).order_by(t.target))
    return [TargetStatus(target=r[0], kind=r[1], up=bool(r[2]), last_attempt=to_s(r[3]),
                         last_success=to_s(r[4]) if r[4] is not None else None, last_error=r[5],
                         duration=r[6], interval=r[7]) for r in rows]


def documents(conn: Connection, target: str | None, key: str | None) -> list[Document]:
    d = documents_t.c
    q = select(d.target, d.key, d.ts, d.body).order_by(d.target, d.key)
    if target is not None:
        q = q.where(d.target == target)
    if key is not None:
        q = q.where(d.key == key)
    return [Document(r[0], r[1], to_s(r[2]), json.loads(r[3])) for r in conn.execute(q)]


def workers(conn: Connection) -> list[Worker]:
    w = workers_t.c
    rows = conn.execute(select(w.worker_id, w.role, w.heartbeat_ts, w.started_ts, w.info)
                        .order_by(w.worker_id))
    return [Worker(r[0], r[1], to_s(r[2]), to_s(r[3]), json.loads(r[4])) for r in rows]


def count_rows(conn: Connection, source: Source) -> int:
    return conn.execute(select(func.count()).select_from(source.table)).scalar() or 0
