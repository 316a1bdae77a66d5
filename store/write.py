"""Writes: batches from collections, bare samples, heartbeats.

Everything one batch produced lands in one transaction, so a reader never
sees a target's status without its samples, or half a batch.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.engine import Connection

from core.samples import Batch, Sample
from store.engine import insert_for
from store.schema import documents, samples, target_status, workers
from store.series import SeriesCache, SeriesKey, series_keys
from store.types import to_ms


def write_samples(conn: Connection, cache: SeriesCache, ts: float,
                  batch_samples: Iterable[Sample]) -> tuple[int, dict[SeriesKey, int]]:
    """Insert samples at ``ts``; returns (rows written, ids to cache after commit).

    A sample already stored for (series, ts) is kept and the new one ignored:
    a retried batch must not fail or double-count.
    """
    wanted = series_keys(batch_samples)
    if not wanted:
        return 0, {}
    ids = cache.resolve(conn, wanted)
    ts_ms = to_ms(ts)
    rows = [{"series_id": ids[k], "ts": ts_ms, "value": float(s.value)}  # type: ignore[arg-type]  # run() dropped None
            for k, s in wanted.items()]
    # RETURNING yields only rows actually inserted; an executemany's rowcount
    # is not reliable across drivers (psycopg reports a partial count).
    result = conn.execute(insert_for(conn, samples).on_conflict_do_nothing(
        index_elements=[samples.c.series_id, samples.c.ts]).returning(samples.c.series_id), rows)
    return len(result.all()), ids


def upsert_target_status(conn: Connection, batch: Batch, interval: float | None) -> None:
    attempt = to_ms(batch.started_at)
    stmt = insert_for(conn, target_status).values(
        target=batch.target, kind=batch.kind, up=bool(batch.up), last_attempt=attempt,
        last_success=attempt if batch.up else None, last_error=None if batch.up else batch.error,
        duration=float(batch.duration), interval=interval,
    )
    ex = stmt.excluded
    update: dict[str, Any] = {"kind": ex.kind, "up": ex.up, "last_attempt": ex.last_attempt,
                              "last_error": ex.last_error, "duration": ex.duration,
                              "interval": func.coalesce(ex.interval, target_status.c.interval)}
    if batch.up:
        # A failed attempt must not erase when the target last worked.
        update["last_success"] = ex.last_success
    conn.execute(stmt.on_conflict_do_update(index_elements=[target_status.c.target], set_=update))


def upsert_documents(conn: Connection, target: str, ts: float, docs: Mapping[str, Any]) -> None:
    if not docs:
        return
    stmt = insert_for(conn, documents)
    rows = [{"target": target, "key": str(k), "ts": to_ms(ts), "body": json.dumps(v, default=str)}
            for k, v in docs.items()]
    conn.execute(stmt.on_conflict_do_update(
        index_elements=[documents.c.target, documents.c.key],
        set_={"ts": stmt.excluded.ts, "body": stmt.excluded.body}), rows)


def write_batch(conn: Connection, cache: SeriesCache, batch: Batch,
                interval: float | None) -> tuple[int, dict[SeriesKey, int]]:
    written, ids = write_samples(conn, cache, batch.started_at, batch.samples)
    upsert_target_status(conn, batch, interval)
    upsert_documents(conn, batch.target, batch.started_at, batch.documents)
    return written, ids


def forget_worker(conn: Connection, worker_id: str) -> None:
    conn.execute(delete(workers).where(workers.c.worker_id == worker_id))


def heartbeat(conn: Connection, worker_id: str, role: str, now: float,
              info: Mapping[str, Any] | None) -> None:
    stmt = insert_for(conn, workers).values(worker_id=worker_id, role=role, heartbeat_ts=to_ms(now),
                                            started_ts=to_ms(now),
                                            info=json.dumps(dict(info or {}), default=str))
    # started_ts stays from the first beat: it tells how long the worker has lived.
    conn.execute(stmt.on_conflict_do_update(
        index_elements=[workers.c.worker_id],
        set_={"role": stmt.excluded.role, "heartbeat_ts": stmt.excluded.heartbeat_ts,
              "info": stmt.excluded.info}))
