"""Finished buckets kept between refreshes, so an auto-refresh reads only the newest ones.

A refresh re-reads its whole window, though a few seconds later only the
newest buckets can differ. On an epoch-aligned grid (``dashboards.grid``)
two refreshes share their bucket edges, and a bucket is final once

- no sample can still land in it: it ends before ``now - GRACE_MS``, the
  rollup job's bound on late writes (a bucket read from a rollup table ends
  before that table's watermark, which is older still); and
- the store still reads it from the same table: the plan of a range
  (``store.query.plan_range``) moves a slice from raw samples to a rollup
  when the rollup's watermark passes it, and off a table at its retention
  horizon.

So an entry keeps, besides its buckets, the plan they were read with. A
read reuses the kept buckets up to the first point where that plan and the
current one disagree (and no later than the kept ones were final), reads
the current plan from there on, and merges. Every bucket is then built from
the same rows as a read of the whole window, so the result is the same.

One cache per process (``for_runtime``), shared by the web server's
threads: entries are immutable and swapped under a lock, and bounded by
entry count and total buckets, least recently used first out. Buckets are
kept as flat arrays, not Bucket objects: 0.9 M small objects cost ~200 MB
and made every full garbage collection take 0.2 s on the 2-core bench
machine; the arrays cost 48 bytes a bucket and nothing to the collector.
"""
from __future__ import annotations

import threading
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from store import query as store_query
from store.aggregate import FOREVER, Grid, Segment
from store.rollup import GRACE_MS
from store.series import select_series
from store.types import Bucket, SeriesRange, to_ms

if TYPE_CHECKING:  # context imports this module for BucketCache
    from dashboards.context import DashboardRuntime

MAX_ENTRIES = 1024
MAX_BUCKETS = 1_000_000  # 48 bytes a bucket: about 50 MB at the bound


@dataclass(frozen=True)
class _Entry:
    origin_ms: int                    # grid edge the kept buckets start at
    until_ms: int                     # buckets ending at or before this edge are final
    segments: tuple[Segment, ...]     # the plan they were read with
    starts: dict[int, array]          # per series id: bucket starts in ms, oldest first ('q')
    values: dict[int, array]          # and min, max, avg, last, count of each, flat ('d')
    size: int

    def buckets(self, series_id: int, lo: int, hi: int) -> list[Bucket]:
        """The kept buckets of a series starting in [lo, hi)."""
        starts = self.starts.get(series_id)
        if not starts:
            return []
        a, b = bisect_left(starts, lo), bisect_left(starts, hi)
        it = iter(self.values[series_id][5 * a:5 * b])
        return [Bucket(ts / 1000.0, mn, mx, avg, last, int(n))
                for ts, mn, mx, avg, last, n in zip(starts[a:b], it, it, it, it, it, strict=False)]

    def has_bucket(self, series_id: int, start: int) -> bool:
        starts = self.starts.get(series_id)
        if not starts:
            return False
        i = bisect_left(starts, start)
        return i < len(starts) and starts[i] == start


@dataclass
class Stats:
    hits: int = 0      # reads that reused kept buckets
    misses: int = 0    # reads of the whole window
    buckets_reused: int = 0


class BucketCache:
    def __init__(self, max_entries: int = MAX_ENTRIES, max_buckets: int = MAX_BUCKETS) -> None:
        self.max_entries = max_entries
        self.max_buckets = max_buckets
        self.stats = Stats()
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self._total = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def total_buckets(self) -> int:
        return self._total

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._total = 0

    def read(self, store: Any, name: str, matchers: Mapping[str, str] | None, mode: str, grid: Grid,
             end: float, span: float, avail: Mapping[Any, tuple[int, int]] | None = None) -> list[SeriesRange]:
        """``store.query_range`` on ``grid`` over [grid origin, ``end``], reusing final buckets.

        The key is the metric, matchers, mode and bucket width, with the
        window's length (``span``) and how far it ends before now in whole
        spans: a view and the same view a week earlier (the revenue page
        draws both) then keep an entry each instead of evicting each other.
        ``avail`` is ``store.query.availability`` read once for all the
        ranges of a refresh (else each read reads it).
        """
        if mode not in ("value", "rate"):
            raise ValueError(f"mode must be 'value' or 'rate', not {mode!r}")
        now_ms, end_ms, span_ms = to_ms(store.clock()), to_ms(end), max(to_ms(span), 1)
        key = (name, tuple(sorted((matchers or {}).items())), mode, grid.width_ms, span_ms,
               (now_ms - end_ms) // span_ms)
        with store.engine.connect() as conn:
            infos = select_series(conn, name, matchers)
            if not infos:
                return []
            plan = store_query.plan_range(conn, grid, end_ms, now_ms, store.retention,
                                          dict(avail) if avail is not None else None)
            entry = self._get(key)
            edge = _reuse_edge(entry, grid, plan)
            got = None
            if entry is not None and edge > grid.origin_ms:
                got = _read_after(conn, infos, grid, plan, mode, entry, edge)
            if got is None:
                ranges, reused = store_query.read_grid(conn, infos, grid, plan, mode), 0
            else:
                ranges, reused = got
        with self._lock:
            self.stats.hits += got is not None
            self.stats.misses += got is None
            self.stats.buckets_reused += reused
        w = grid.width_ms
        final = grid.origin_ms + (min(now_ms - GRACE_MS, end_ms + 1) - grid.origin_ms) // w * w
        # Rebuild the entry only when a bucket became final that it lacks (once a bucket width,
        # or when a rollup moved the plan); until then the kept one still covers all of them.
        if final > grid.origin_ms and not (got is not None and edge >= final):
            self._put(key, _entry(ranges, grid, final, plan))
        return ranges

    # -- LRU --------------------------------------------------------------------
    def _get(self, key: tuple) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def _put(self, key: tuple, entry: _Entry) -> None:
        if entry.size > self.max_buckets or self.max_entries <= 0:
            return
        with self._lock:
            old = self._entries.get(key)
            if old is not None and old.until_ms > entry.until_ms and old.origin_ms >= entry.origin_ms:
                return  # a concurrent refresh stored a newer one
            if old is not None:
                self._total -= old.size
            self._entries[key] = entry
            self._entries.move_to_end(key)
            self._total += entry.size
            while self._entries and (len(self._entries) > self.max_entries or self._total > self.max_buckets):
                _k, gone = self._entries.popitem(last=False)
                self._total -= gone.size


def for_runtime(runtime: DashboardRuntime) -> BucketCache:
    """The process's cache: one per runtime (one runtime per process)."""
    return runtime.bucket_cache


def _source_at(segments: Sequence[Segment], t: int) -> str | None:
    for src, lo, hi in segments:
        if lo <= t < hi:
            return src.name
    return None


def agree_until(a: Sequence[Segment], b: Sequence[Segment], lo: int) -> int:
    """First time at or after ``lo`` where the two plans read different tables (FOREVER if none)."""
    edges = sorted({lo, *(x for _s, s_lo, s_hi in (*a, *b) for x in (s_lo, s_hi) if x > lo)})
    for t in edges:
        if _source_at(a, t) != _source_at(b, t):
            return t
    return FOREVER


def _reuse_edge(entry: _Entry | None, grid: Grid, plan: Sequence[Segment]) -> int:
    """The bucket edge up to which the entry's buckets are what the current plan would read."""
    if entry is None or entry.origin_ms > grid.origin_ms:
        return grid.origin_ms
    upto = min(agree_until(entry.segments, plan, grid.origin_ms), entry.until_ms)
    return max(grid.origin_ms + (upto - grid.origin_ms) // grid.width_ms * grid.width_ms, grid.origin_ms)


def _clip(plan: Sequence[Segment], lo: int) -> list[Segment]:
    return [(src, max(a, lo), b) for src, a, b in plan if b > lo]


def _read_after(conn: Any, infos: Sequence[Any], grid: Grid, plan: Sequence[Segment], mode: str,
                entry: _Entry, edge: int) -> tuple[list[SeriesRange], int] | None:
    """Kept buckets before ``edge`` and the plan read from there, with the number kept;
    None when that would not be exact."""
    w = grid.width_ms
    # Rate: a bucket's first sample steps from the one before it, so read one bucket more;
    # that bucket's own value lacks its predecessor and the kept one is used instead.
    lo = edge - w if mode == "rate" else edge
    tail = store_query.read_grid(conn, infos, grid, _clip(plan, lo), mode)
    out = []
    reused = 0
    for r in tail:
        kept = entry.buckets(r.series.id, grid.origin_ms, edge)
        if mode == "rate" and kept and not entry.has_bucket(r.series.id, edge - w):
            return None  # no sample in the bucket before the edge: the step into it starts further back
        reused += len(kept)
        out.append(SeriesRange(r.series, [*kept, *(x for x in r.points if to_ms(x.ts) >= edge)]))
    return out, reused


def _entry(ranges: Sequence[SeriesRange], grid: Grid, final: int, plan: Sequence[Segment]) -> _Entry:
    starts: dict[int, array] = {}
    values: dict[int, array] = {}
    size = 0
    last = final - grid.width_ms  # newest final bucket start
    for r in ranges:
        ts = array("q", (to_ms(b.ts) for b in r.points))
        n = bisect_left(ts, last + 1)
        starts[r.series.id] = ts[:n]
        values[r.series.id] = array("d", (x for b in r.points[:n] for x in (b.min, b.max, b.avg, b.last, b.count)))
        size += n
    return _Entry(grid.origin_ms, final, tuple(plan), starts, values, size)
