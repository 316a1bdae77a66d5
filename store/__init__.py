"""The time-series store: the only code that writes or reads samples.

One :class:`Store` per process wraps an engine (SQLite in WAL mode, or
PostgreSQL via psycopg 3) with the same schema and SQL on both::

    store = Store("sqlite:///lookout.db", retention=cfg.store.retention)
    store.migrate()
    store.write_batch(collector.run(), interval=15)
    store.query_range("pg_up", {"target": "db"}, now - 86400, now, points=500)

Timestamps are float epoch seconds in this API and integer milliseconds in
the tables. Modules: ``schema`` (tables, migrations), ``engine`` (pragmas,
write transactions, upsert), ``series``/``write`` (ingest), ``aggregate``
(bucket SQL, source choice), ``query`` (reads), ``rollup`` (rollups, retention).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from core.samples import Batch, Sample
from store import query as q
from store import rollup as r
from store import schema, write
from store.config import Retention
from store.engine import Writer, create_store_engine
from store.series import SeriesCache, metric_names, select_series
from store.types import Bucket, Document, SeriesInfo, SeriesPoints, SeriesRange, TargetStatus, Worker, to_ms

__all__ = ["Bucket", "Document", "SeriesInfo", "SeriesPoints", "SeriesRange", "Store",
           "TargetStatus", "Worker"]


class Store:
    def __init__(self, url: str, *, retention: Retention | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.url = url
        if retention is None:
            retention = Retention()
        self.retention = retention
        self.clock = clock
        self.engine = create_store_engine(url)
        self._writer = Writer(self.engine)
        self._series = SeriesCache()

    # -- schema -------------------------------------------------------------
    def migrate(self) -> None:
        """Create or upgrade the schema; safe to call on every start."""
        schema.migrate(self.engine, writer=self._writer)

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return schema.schema_version(conn)

    # -- writes ---------------------------------------------------------------
    def write_batch(self, batch: Batch, interval: float | None = None) -> int:
        """Store one collection in one transaction; returns samples written.

        Samples go in at ``batch.started_at``; a sample already stored for
        the same series and time is kept. Safe to call from many threads.
        """
        with self._writer.begin() as conn:
            written, ids = write.write_batch(conn, self._series, batch, interval)
        self._series.remember(ids)
        return written

    def write_samples(self, ts: float, samples: Iterable[Sample]) -> int:
        with self._writer.begin() as conn:
            written, ids = write.write_samples(conn, self._series, ts, samples)
        self._series.remember(ids)
        return written

    def heartbeat(self, worker_id: str, role: str, info: Mapping[str, Any] | None = None) -> None:
        with self._writer.begin() as conn:
            write.heartbeat(conn, worker_id, role, self.clock(), info)

    def forget_worker(self, worker_id: str) -> None:
        """Remove a worker's heartbeat row (a clean stop), so the others need not wait for its ttl."""
        with self._writer.begin() as conn:
            write.forget_worker(conn, worker_id)

    def check_writable(self) -> str | None:
        """None if a tiny write transaction commits, else why not (for /api/health)."""
        try:
            with self._writer.begin() as conn:
                r.set_meta(conn, "writable_check", str(to_ms(self.clock())))
        except SQLAlchemyError as exc:
            return str(getattr(exc, "orig", None) or exc)
        return None

    # -- reads ----------------------------------------------------------------
    def select_series(self, name: str | None = None,
                      matchers: Mapping[str, str] | None = None) -> list[SeriesInfo]:
        with self.engine.connect() as conn:
            return select_series(conn, name, matchers)

    def metric_names(self) -> list[str]:
        with self.engine.connect() as conn:
            return metric_names(conn)

    def raw(self, name: str, matchers: Mapping[str, str] | None, start: float,
            end: float) -> list[SeriesPoints]:
        with self.engine.connect() as conn:
            return q.raw(conn, name, matchers, start, end)

    def query_range(self, name: str, matchers: Mapping[str, str] | None, start: float, end: float,
                    points: int = 500, mode: str = "value") -> list[SeriesRange]:
        """At most ``points`` buckets per series over [start, end], aggregated in SQL.

        ``mode="value"``: min/max/avg/last/count of each bucket (a one-sample
        spike survives as the bucket's max). ``mode="rate"``: per-bucket
        reset-aware counter increase per second. Old parts of the range are
        read from rollups.
        """
        with self.engine.connect() as conn:
            return q.query_range(conn, name, matchers, start, end, points, mode,
                                 to_ms(self.clock()), self.retention)

    def increase(self, name: str, matchers: Mapping[str, str] | None, start: float,
                 end: float) -> list[tuple[SeriesInfo, float]]:
        with self.engine.connect() as conn:
            return q.increase(conn, name, matchers, start, end, to_ms(self.clock()), self.retention)

    def rate(self, name: str, matchers: Mapping[str, str] | None, start: float,
             end: float) -> list[tuple[SeriesInfo, float]]:
        span = max(end - start, 1e-9)
        return [(s, inc / span) for s, inc in self.increase(name, matchers, start, end)]

    def latest(self, name: str, matchers: Mapping[str, str] | None = None,
               max_age: float | None = None) -> list[tuple[SeriesInfo, float, float]]:
        min_ts = None if max_age is None else self.clock() - max_age
        with self.engine.connect() as conn:
            return q.latest(conn, name, matchers, min_ts)

    def target_status(self) -> list[TargetStatus]:
        with self.engine.connect() as conn:
            return q.target_status(conn)

    def documents(self, target: str | None = None, key: str | None = None) -> list[Document]:
        with self.engine.connect() as conn:
            return q.documents(conn, target, key)

    def workers(self) -> list[Worker]:
        with self.engine.connect() as conn:
            return q.workers(conn)

    # -- maintenance ----------------------------------------------------------
    def rollup(self, now: float | None = None) -> dict[str, int]:
        """Aggregate completed minutes into 1m rows and completed hours into 1h rows.

        Returns rows upserted per table. Run it periodically (every minute
        or few); re-running covers nothing twice.
        """
        return r.rollup(self._writer, to_ms(self.clock() if now is None else now))

    def apply_retention(self, now: float | None = None) -> dict[str, int]:
        """Delete rows past retention; returns rows deleted per table.

        Run :meth:`rollup` first: raw rows past retention are deleted whether
        or not they were rolled up.
        """
        return r.apply_retention(self._writer, self.engine,
                                 to_ms(self.clock() if now is None else now), self.retention)

    def close(self) -> None:
        self.engine.dispose()
        self._series.clear()
