"""Time partitions of ``samples`` on PostgreSQL, so retention drops tables instead of rows.

Native declarative partitioning by range of ``ts`` (epoch ms), one partition
per UTC day named ``samples_pYYYYMMDD``, plus ``samples_default`` for rows
outside every daily range (very old imports, clocks far off). A TimescaleDB
hypertable path was removed because no test could ever run it here
(docs/scaling.md says what a TimescaleDB user does instead).

- :func:`convert` (schema migration 3) turns a plain ``samples`` table into a
  partitioned one, copying its rows, in the migration's transaction.
- :func:`ensure` creates today's and the next ``AHEAD_DAYS`` partitions; the
  rollup job calls it every minute, so inserts always find their partition.
- :func:`drop_expired` drops partitions whose whole day is older than the raw
  horizon; :func:`row_cutoff` tells retention which older rows remain to
  delete one by one (only those in ``samples_default``). Raw rows of the day
  that straddles the horizon live up to one day past ``retention.raw``.

Partitions follow the wall clock, not the store's injectable clock: they are
physical layout. SQLite has none of this and is left as it is. Rollup tables
stay unpartitioned: they are 15 to 900 times smaller than raw samples and
their retention deletes few rows per pass.
"""
from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection

DAY_MS = 86_400_000
AHEAD_DAYS = 7
MAX_BACKFILL_DAYS = 400  # converting an old table: older rows go to the default partition
DEFAULT = "samples_default"
_NAME = re.compile(r"^samples_p(\d{8})$")


def _day_name(day_ms: int) -> str:
    return "samples_p" + datetime.fromtimestamp(day_ms / 1000, tz=UTC).strftime("%Y%m%d")


def _day_start(name: str) -> int | None:
    m = _NAME.match(name)
    if not m:
        return None
    d = datetime.strptime(m.group(1), "%Y%m%d").replace(tzinfo=UTC)
    return int(d.timestamp() * 1000)


def _wall_day(now_ms: int | None = None) -> int:
    now = int(time.time() * 1000) if now_ms is None else now_ms
    return now // DAY_MS * DAY_MS


def layout(conn: Connection) -> str:
    """'partitioned' or 'plain' (also for SQLite)."""
    if conn.dialect.name != "postgresql":
        return "plain"
    kind = conn.execute(text("SELECT relkind FROM pg_class WHERE oid = to_regclass('samples')")).scalar()
    return "partitioned" if kind == "p" else "plain"


def partitions(conn: Connection) -> dict[str, int]:
    """Daily partition name -> day start (ms)."""
    rows = conn.execute(text("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                             "WHERE i.inhparent = to_regclass('samples')")).scalars()
    return {n: d for n in rows if (d := _day_start(n)) is not None}


def convert(conn: Connection) -> None:
    """Migration step: partition ``samples``, keeping every row."""
    if conn.dialect.name != "postgresql" or layout(conn) != "plain":
        return
    conn.execute(text("ALTER TABLE samples RENAME TO samples_unpartitioned"))
    conn.execute(text("ALTER TABLE samples_unpartitioned RENAME CONSTRAINT samples_pkey "
                      "TO samples_unpartitioned_pkey"))
    conn.execute(text("ALTER INDEX IF EXISTS ix_samples_ts RENAME TO ix_samples_unpartitioned_ts"))
    conn.execute(text("CREATE TABLE samples (series_id INTEGER NOT NULL REFERENCES series (id), "
                      "ts BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL, "
                      "CONSTRAINT samples_pkey PRIMARY KEY (series_id, ts)) PARTITION BY RANGE (ts)"))
    conn.execute(text("CREATE INDEX ix_samples_ts ON samples USING brin (ts)"))
    conn.execute(text(f"CREATE TABLE {DEFAULT} PARTITION OF samples DEFAULT"))
    oldest = conn.execute(text("SELECT min(ts) FROM samples_unpartitioned")).scalar()
    today = _wall_day()
    first = today - DAY_MS
    if oldest is not None:
        first = max(min(first, int(oldest) // DAY_MS * DAY_MS), today - MAX_BACKFILL_DAYS * DAY_MS)
    for day in range(first, today + (AHEAD_DAYS + 1) * DAY_MS, DAY_MS):
        _create(conn, day)
    conn.execute(text("INSERT INTO samples (series_id, ts, value) "
                      "SELECT series_id, ts, value FROM samples_unpartitioned"))
    conn.execute(text("DROP TABLE samples_unpartitioned"))


def _create(conn: Connection, day: int) -> None:
    name = _day_name(day)
    bounds = {"lo": day, "hi": day + DAY_MS}
    stray = conn.execute(text(f"SELECT 1 FROM {DEFAULT} WHERE ts >= :lo AND ts < :hi LIMIT 1"), bounds).first()
    if stray is None:
        conn.execute(text(f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF samples "
                          f"FOR VALUES FROM ({day}) TO ({day + DAY_MS})"))
        return
    # Rows of that day already sit in the default partition: PostgreSQL refuses
    # to create the partition over them, so move them into it first.
    conn.execute(text(f"CREATE TABLE {name} (LIKE samples INCLUDING DEFAULTS)"))
    conn.execute(text(f"INSERT INTO {name} SELECT * FROM {DEFAULT} WHERE ts >= :lo AND ts < :hi"), bounds)
    conn.execute(text(f"DELETE FROM {DEFAULT} WHERE ts >= :lo AND ts < :hi"), bounds)
    conn.execute(text(f"ALTER TABLE samples ATTACH PARTITION {name} FOR VALUES FROM ({day}) TO ({day + DAY_MS})"))


def ensure(conn: Connection, ahead: int = AHEAD_DAYS) -> list[str]:
    """Create the missing partitions of today and the next ``ahead`` days; returns their names."""
    if layout(conn) != "partitioned":
        return []
    have = set(partitions(conn).values())
    today = _wall_day()
    missing = [d for d in range(today, today + (ahead + 1) * DAY_MS, DAY_MS) if d not in have]
    if missing:
        conn.execute(text("SET LOCAL lock_timeout = '2s'"))  # never queue writers behind us for long
    for day in missing:
        _create(conn, day)
    return [_day_name(d) for d in missing]


def drop_expired(conn: Connection, cutoff_ms: int) -> int:
    """Drop whole days older than ``cutoff_ms``; returns the rows they held."""
    if layout(conn) != "partitioned":
        return 0
    old = [n for n, day in partitions(conn).items() if day + DAY_MS <= cutoff_ms]
    if not old:
        return 0
    conn.execute(text("SET LOCAL lock_timeout = '2s'"))
    rows = 0
    for name in sorted(old):
        rows += conn.execute(text(f"SELECT count(*) FROM {name}")).scalar() or 0
        conn.execute(text(f"DROP TABLE {name}"))
    return int(rows)


def row_cutoff(conn: Connection, cutoff_ms: int) -> int:
    """Raw rows older than this are deleted row by row: those below every daily partition."""
    if layout(conn) == "plain":
        return cutoff_ms
    return min([cutoff_ms, *partitions(conn).values()])
