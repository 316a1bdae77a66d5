"""Rollups (raw -> 1 minute -> 1 hour) and retention.

Rollups advance a watermark kept in ``meta``: everything before it has been
aggregated. Each chunk's rows and the new watermark commit together, and
rows are upserted, so a crash or a second run never double-counts. Raw
samples are rolled up only once a minute is ``GRACE_MS`` old: a collection
that started in a minute may be written a few seconds after it ended.
"""
from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from store import partitions
from store.aggregate import H1, HOUR_MS, M1, MINUTE_MS, RAW, Grid, Source, bucket_select
from store.config import Retention
from store.engine import Writer, insert_for
from store.schema import meta, series

log = logging.getLogger("lookout.store")
GRACE_MS = 120_000
WATERMARK = {M1: "rollup_1m_until", H1: "rollup_1h_until"}
# Time covered by one transaction: bounds how long a rollup or a retention
# pass holds SQLite's write lock before collections get their turn.
_ROLLUP_CHUNK_MS = {M1: 2 * HOUR_MS, H1: 48 * HOUR_MS}
_DELETE_CHUNK_MS = {RAW: 15 * MINUTE_MS, M1: 12 * HOUR_MS, H1: 30 * 24 * HOUR_MS}


def get_meta_int(conn: Connection, key: str) -> int | None:
    value = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()
    return int(value) if value is not None else None


def set_meta(conn: Connection, key: str, value: str) -> None:
    stmt = insert_for(conn, meta).values(key=key, value=value)
    conn.execute(stmt.on_conflict_do_update(index_elements=[meta.c.key],
                                            set_={"value": stmt.excluded.value}))


def watermarks(conn: Connection) -> dict[Source, int]:
    return {dst: get_meta_int(conn, key) or 0 for dst, key in WATERMARK.items()}


def oldest_ts(conn: Connection, source: Source, since: int = 0) -> int | None:
    """Oldest row at or after ``since``, via each series' primary key.

    One index probe per series: a plain MIN(ts) would scan the whole table
    on PostgreSQL, whose ts index is BRIN.
    """
    t = source.table
    per_series = (select(func.min(t.c.ts)).where(t.c.series_id == series.c.id, t.c.ts >= since)
                  .scalar_subquery())
    return conn.execute(select(func.min(per_series)).select_from(series)).scalar()


def _roll(writer: Writer, src: Source, dst: Source, end: int) -> int:
    """Aggregate ``src`` rows before ``end`` into ``dst``; returns rows upserted."""
    written = 0
    while True:
        with writer.begin() as conn:
            wm = get_meta_int(conn, WATERMARK[dst]) or 0
            if wm >= end:
                return written
            first = oldest_ts(conn, src, wm)
            if first is None or first >= end:
                set_meta(conn, WATERMARK[dst], str(end))
                return written
            lo = first // dst.res_ms * dst.res_ms  # skips idle gaps in one step
            hi = min(lo + _ROLLUP_CHUNK_MS[dst], end)
            q = bucket_select(src, Grid(0, dst.res_ms), lo, hi).subquery("q")
            # The always-true WHERE stops SQLite parsing "ON CONFLICT" below
            # as a join constraint of the FROM clause.
            rows = select(q.c.series_id, q.c.ts, q.c["min"], q.c["max"], q.c["sum"], q.c["count"],
                          q.c["last"]).where(q.c["count"] > 0)
            ins = insert_for(conn, dst.table).from_select(
                ["series_id", "ts", "min", "max", "sum", "count", "last"], rows)
            ex = ins.excluded
            ins = ins.on_conflict_do_update(
                index_elements=[dst.table.c.series_id, dst.table.c.ts],
                set_={"min": ex["min"], "max": ex["max"], "sum": ex["sum"], "count": ex["count"],
                      "last": ex["last"]})
            # Without preserve_rowcount SQLAlchemy reports -1 for INSERT .. SELECT on psycopg.
            written += max(conn.execute(ins.execution_options(preserve_rowcount=True)).rowcount, 0)
            set_meta(conn, WATERMARK[dst], str(hi))


def rollup(writer: Writer, now_ms: int) -> dict[str, int]:
    """Roll completed minutes into 1m, then hours whose minutes are all rolled into 1h."""
    minute_end = (now_ms - GRACE_MS) // MINUTE_MS * MINUTE_MS
    if writer.engine.dialect.name == "postgresql":
        try:
            with writer.begin() as conn:  # the days ahead exist before their first insert
                partitions.ensure(conn)
        except SQLAlchemyError as exc:  # e.g. lock_timeout: AHEAD_DAYS of slack, retried next minute
            log.warning("creating sample partitions: %s", exc)
    out = {"1m": _roll(writer, RAW, M1, minute_end)}
    with writer.engine.connect() as conn:
        wm_1m = get_meta_int(conn, WATERMARK[M1]) or 0
    out["1h"] = _roll(writer, M1, H1, wm_1m // HOUR_MS * HOUR_MS)
    return out


def horizons(now_ms: int, retention: Retention) -> dict[Source, int]:
    """Oldest timestamp each table keeps under the retention policy."""
    return {RAW: now_ms - int(retention.raw * 1000), M1: now_ms - int(retention.minute * 1000),
            H1: now_ms - int(retention.hour * 1000)}


def apply_retention(writer: Writer, engine: Engine, now_ms: int,
                    retention: Retention) -> dict[str, int]:
    """Delete rows older than each table's horizon, one short transaction per time slice."""
    out: dict[str, int] = {}
    for src, cutoff in horizons(now_ms, retention).items():
        t = src.table
        deleted = 0
        if src is RAW and engine.dialect.name == "postgresql":
            # Partitioned samples: drop whole expired days, delete rows only below them.
            with writer.begin() as conn:
                deleted = partitions.drop_expired(conn, cutoff)
                cutoff = partitions.row_cutoff(conn, cutoff)
        with engine.connect() as conn:
            lo = oldest_ts(conn, src)
        while lo is not None and lo < cutoff:
            hi = min(lo + _DELETE_CHUNK_MS[src], cutoff)
            with writer.begin() as conn:
                n = conn.execute(t.delete().where(t.c.ts < hi)).rowcount
            deleted += max(n or 0, 0)
            lo = hi
            if not n:  # an idle gap: jump to the next row instead of stepping through it
                with engine.connect() as conn:
                    lo = oldest_ts(conn, src, hi)
        out[src.name] = deleted
    return out
