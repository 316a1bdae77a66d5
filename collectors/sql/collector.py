"""Runs the due business queries of one ``kind: sql`` target.

Each query runs in its own read-only transaction with its own
statement_timeout and lock_timeout, so one bad or slow query only marks
itself down (``lookout_sql_query_up{query}``); the target is down only when
the database cannot be reached. Queries that are not due this cycle put
their last samples in ``self.carried``.
"""
from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

from collectors.base import Collector, CollectorError
from collectors.sql.config import LABEL_NAME, SqlQuery, SqlTarget
from core.samples import Sample

_RESERVED_LABELS = {"target", "query", "kind"}
_DRIVER_ERRORS = (psycopg.Error, sqlite3.Error)


class QueryError(Exception):
    """A query ran but its answer is unusable; the message names the query."""


class SqlCollector(Collector):
    kind = "sql"

    def __init__(self, target: SqlTarget, **kw: Any) -> None:
        super().__init__(target, **kw)
        self.engine: sa.Engine | None = None
        self._due: dict[str, float] = {}
        self._last: dict[str, list[Sample]] = {}
        self._status: dict[str, dict[str, Any]] = {}
        self._sqlite = target.url.startswith("sqlite")

    def _connect(self) -> sa.Engine:
        t = self.target
        if self._sqlite:
            engine = sa.create_engine(t.url, connect_args={"timeout": t.lock_timeout})

            @event.listens_for(engine, "connect")
            def _read_only(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.execute("PRAGMA query_only = ON")
            return engine
        return sa.create_engine(t.url, pool_size=1, max_overflow=1, connect_args={
            "application_name": "lookout",
            "connect_timeout": max(1, math.ceil(t.connect_timeout)),
            "options": "-c default_transaction_read_only=on",
        })

    def collect(self) -> Iterable[Sample]:
        now = self.clock()
        due = [q for q in self.target.queries if self._due.get(q.name, 0.0) <= now]
        for q in self.target.queries:
            if q not in due:
                self.carried.extend(self._last.get(q.name, []))
        if self.engine is None:
            self.engine = self._connect()
        started = time.monotonic()
        budget = self.target.timeout * 0.9  # leave run() time to hand the batch back
        try:
            conn = self.engine.connect()
        except sa.exc.DBAPIError as exc:
            raise CollectorError(f"database {_safe_url(self.target.url)}: {_first_line(exc)}") from None
        samples: list[Sample] = []
        with conn:
            for q in due:
                left = budget - (time.monotonic() - started)
                samples.extend(self._run_one(conn, q, left, now))
        self.documents["sql_queries"] = dict(self._status)
        return samples

    def _run_one(self, conn: sa.Connection, q: SqlQuery, left: float, now: float) -> list[Sample]:
        self._due[q.name] = now + (q.interval or self.target.interval)
        labels = {"query": q.name}
        t0 = time.perf_counter()
        error, out = None, []
        timeout = min(q.timeout or self.target.statement_timeout, left)
        try:
            if timeout <= 0.05:
                raise QueryError("not run: earlier queries used up the target's timeout")
            columns, rows = self._fetch(conn, q, timeout)
            out = list(_shape(q, columns, rows))
        except QueryError as exc:
            error = f"query {q.name!r}: {exc}"
        except (sa.exc.DBAPIError, *_DRIVER_ERRORS) as exc:
            error = f"query {q.name!r}: {_db_error(exc, timeout, self.target.lock_timeout)}"
        duration = time.perf_counter() - t0
        out.append(Sample("lookout_sql_query_up", 0.0 if error else 1.0, labels,
                          help="1 if the business query's last run succeeded, else 0."))
        out.append(Sample("lookout_sql_query_duration_seconds", duration, labels,
                          help="Wall time of the business query's last run."))
        self._last[q.name] = out
        self._status[q.name] = {"ok": error is None, "error": error, "duration_seconds": duration,
                                "ran_at": now, "next_due": self._due[q.name], "series": len(out) - 2}
        return out

    def _fetch(self, conn: sa.Connection, q: SqlQuery, timeout: float) -> tuple[list[str], Sequence[Any]]:
        raw = None
        with conn.begin():
            if self._sqlite:
                deadline = time.monotonic() + timeout
                raw = conn.connection.driver_connection
                assert raw is not None  # a checked-out connection always has its sqlite3 connection
                raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
            else:
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                conn.exec_driver_sql("SELECT set_config('statement_timeout', %s, true), "
                                     "set_config('lock_timeout', %s, true)",
                                     (f"{int(timeout * 1000)}ms", f"{int(self.target.lock_timeout * 1000)}ms"))
            # The DBAPI cursor without parameters, so a '%' in the SQL (LIKE 'a%')
            # is not taken for a placeholder.
            cur = conn.connection.cursor()
            try:
                cur.execute(q.sql)
                if cur.description is None:
                    raise QueryError("returned no result set")
                return [d[0] for d in cur.description], cur.fetchmany(q.max_rows + 1)
            finally:
                cur.close()
                if raw is not None:
                    raw.set_progress_handler(None, 0)

    def close(self) -> None:
        engine, self.engine = self.engine, None
        if engine is not None:
            engine.dispose()


def _shape(q: SqlQuery, columns: list[str], rows: Sequence[Any]) -> Iterable[Sample]:
    if len(rows) > q.max_rows:
        raise QueryError(f"returned more than max_rows={q.max_rows} rows")
    if not rows:
        if q.allow_empty:
            return
        raise QueryError("returned no rows (set allow_empty: true if that can be normal)")
    label_cols = columns[:-1]
    if not label_cols and len(rows) > 1:
        raise QueryError(f"returned {len(rows)} rows of one column: one number, or label columns then a value")
    for col in label_cols:
        if not LABEL_NAME.match(col) or col.startswith("__") or col in _RESERVED_LABELS:
            raise QueryError(f"column {col!r} cannot be a label name (use AS a_name; not target/query/kind)")
    seen: set[tuple] = set()
    for row in rows:
        labels = {c: "" if v is None else str(v) for c, v in zip(label_cols, row[:-1], strict=True)}
        key = tuple(labels.values())
        if key in seen:
            raise QueryError(f"returned the labels {labels} twice")
        seen.add(key)
        yield Sample(q.metric, _number(q, columns[-1], row[-1]), labels, kind=q.kind, help=q.help)


def _number(q: SqlQuery, column: str, value: Any) -> float:
    if value is None:
        raise QueryError(f"value column {column!r} is NULL (use COALESCE if 0 is meant)")
    if isinstance(value, (bool, int, float, Decimal)):
        v = float(value)
        if math.isnan(v):
            raise QueryError(f"value column {column!r} is NaN")
        return v
    shown = repr(value) if len(repr(value)) < 40 else repr(value)[:37] + "..."
    raise QueryError(f"value column {column!r} is {type(value).__name__} {shown}, not a number")


def _first_line(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else str(exc)
    return (text.strip().splitlines() or [exc.__class__.__name__])[0]


def _db_error(exc: Exception, timeout: float, lock_timeout: float) -> str:
    code = getattr(getattr(exc, "orig", None) or exc, "sqlstate", None)
    msg = _first_line(exc)
    if code == "57014":
        return f"cancelled after {timeout:g}s by statement_timeout ({msg})"
    if code == "55P03":
        return f"gave up waiting for a lock after lock_timeout {lock_timeout:g}s ({msg})"
    if code == "25006":
        return f"tried to write in the read-only transaction ({msg})"
    if "interrupted" in msg:  # SQLite progress handler
        return f"cancelled after {timeout:g}s by the statement timeout ({msg})"
    return msg


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - never echo a URL we cannot parse (it may hold a password)
        return "(unparseable URL)"
