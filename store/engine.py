"""Engine creation and write transactions, the only dialect-aware plumbing.

SQLite gets WAL (readers never block the writer), ``synchronous=NORMAL``
(durable at checkpoints, fast commits), a busy timeout (another process -- a
web replica, a worker -- may hold the write lock briefly) and foreign keys.
Write transactions on SQLite start with ``BEGIN IMMEDIATE``: a deferred
transaction that reads and then writes can fail with SQLITE_BUSY without
waiting when another connection wrote meanwhile, and the busy timeout does not
help there. Inside one process writers also queue on a lock, so scheduler
threads wait in Python instead of spinning on the busy handler.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url

BUSY_TIMEOUT_MS = 10_000
# Every store call on PostgreSQL is bounded: connecting, waiting for a pooled
# connection, a statement, a lock, and a dead peer (keepalives; unacknowledged
# data after a partition without RST: tcp_user_timeout). A server that is
# stopped but whose kernel still answers (SIGSTOP) is caught by none of these
# until it resumes: the pipeline's writer marks such a write as hung
# (composition/store_writer.py) and /api/health reads with its own deadline.
POOL_TIMEOUT = 5.0
PG_CONNECT_ARGS = {
    "connect_timeout": 5,
    "application_name": "lookout-store",
    "options": "-c statement_timeout=60s -c lock_timeout=10s -c idle_in_transaction_session_timeout=60s",
    "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}
_IMMEDIATE = "lookout_begin_immediate"


def create_store_engine(url: str) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        path = u.database or ""
        if path and path != ":memory:" and not path.startswith("file:"):
            # A fresh checkout has no data/ folder yet.
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: the pool hands connections to whichever
        # scheduler thread asks; a connection is still used by one thread at a time.
        engine = create_engine(u, connect_args={"check_same_thread": False,
                                                "timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    if u.get_backend_name() == "postgresql":
        return create_engine(u, pool_pre_ping=True, pool_size=8, max_overflow=8, pool_timeout=POOL_TIMEOUT,
                             connect_args=PG_CONNECT_ARGS)
    raise ValueError(f"unsupported store URL {u.render_as_string()!r}: use sqlite:///FILE "
                     "or postgresql+psycopg://...")


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Take transaction control from the sqlite3 module so "begin" below
    # decides between BEGIN and BEGIN IMMEDIATE.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA synchronous = NORMAL")
        try:
            cur.execute("PRAGMA journal_mode = WAL")
        except Exception:  # noqa: BLE001 - a read-only open cannot switch modes; reads still work
            pass
    finally:
        cur.close()


def _sqlite_on_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_IMMEDIATE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_sqlite(engine_or_conn: Engine | Connection) -> bool:
    return engine_or_conn.dialect.name == "sqlite"


class Writer:
    """Hands out write transactions: serialized per process on SQLite."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock: threading.Lock | None = threading.Lock() if is_sqlite(engine) else None

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        if self._lock is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._lock, self.engine.connect() as conn:
            conn.execution_options(**{_IMMEDIATE: True})
            with conn.begin():
                yield conn


def insert_for(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT, which has on_conflict_do_nothing/do_update.

    Both dialects spell upserts the same way in SQLAlchemy (``index_elements``,
    ``set_``, ``.excluded``), so callers stay dialect-neutral.
    """
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
