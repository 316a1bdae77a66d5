"""Sessions ended on the server: a cookie copied before logout does not work after it.

A session cookie is signed, not stored, so logging out in the browser alone would
leave a copied cookie valid for the rest of its lifetime. Each session carries a
random id (``s``); ``/logout`` records the id's SHA-256 in the store's database
(``webauth_revoked_sessions``, this module's own table on its own MetaData), so
every web replica refuses it, and rows are deleted once the cookie would have
expired anyway. A password change needs no row: the session's password binding
(webauth.guard.password_binding) no longer matches.

Cost: no store read per request. Each process keeps the revoked ids in memory and
re-reads the (small: logouts within one session lifetime) table at most every
``REFRESH_SECONDS`` (and once at start), so a logout on one replica holds on the
others within that time, and at once on the replica that served it. The re-read
runs on a short-lived background thread: no request waits for the store, even
one that hangs.

While the store is unavailable the last set read still applies, plus the logouts
this process served (they are written when the store is back), and one log line
says so: a replica does not log everyone out because its store is down, but a
logout served by another replica during the outage holds here only once the store
is back.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy import BigInteger, Column, MetaData, String, Table, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("lookout.auth")

REFRESH_SECONDS = 2.0
_PG_LOCK = 0x4C4B5756  # "LKWV": serialises the CREATE TABLE of several replicas starting at once

metadata = MetaData()

revoked_sessions = Table(
    "webauth_revoked_sessions", metadata,
    Column("sid_hash", String(64), primary_key=True),  # sha256 hex of the session id: not a credential
    Column("expires_at", BigInteger, nullable=False),   # epoch ms: the cookie is dead by then anyway
)


def sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class Revocations:
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time,
                 refresh_seconds: float = REFRESH_SECONDS, monotonic: Callable[[], float] = time.monotonic,
                 begin: Callable[[], AbstractContextManager[Connection]] | None = None) -> None:
        """``begin`` opens a write transaction (the store's writer: serialised per process on SQLite)."""
        self.engine = engine
        self.begin = begin or engine.begin
        self.clock = clock
        self.refresh_seconds = refresh_seconds
        self.monotonic = monotonic
        self._from_store: frozenset[str] = frozenset()
        self._local: dict[str, int] = {}   # revoked by this process: hash -> expires_at ms (kept until then)
        self._unwritten: set[str] = set()  # of those, not yet in the store
        self._next_refresh = 0.0
        self._refreshing = threading.Lock()
        self._lock = threading.Lock()
        self._store_error: str | None = None

    def migrate(self) -> None:
        """Create the table if it is missing (safe from several processes at once), then read it."""
        with self.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
            metadata.create_all(conn, checkfirst=True)
        self.refresh()

    def revoke(self, sid: str, expires_at: float) -> None:
        digest = sid_hash(sid)
        with self._lock:
            self._local[digest] = int(expires_at * 1000)
            self._unwritten.add(digest)
        self._write_unwritten()

    def is_revoked(self, sid: str) -> bool:
        """From memory; starts a re-read of the table in the background when the last is old."""
        if self.monotonic() >= self._next_refresh and self._refreshing.acquire(blocking=False):
            self._next_refresh = self.monotonic() + self.refresh_seconds
            threading.Thread(target=self._refresh_and_release, name="lookout-revocations", daemon=True).start()
        digest = sid_hash(sid)
        return digest in self._from_store or digest in self._local

    def refresh(self) -> None:
        """Write what waits and re-read the table now (start-up; tests)."""
        with self._refreshing:
            self._refresh()

    # -- the store ---------------------------------------------------------------
    def _refresh_and_release(self) -> None:
        try:
            self._refresh()
        finally:
            self._refreshing.release()

    def _refresh(self) -> None:
        self._next_refresh = self.monotonic() + self.refresh_seconds
        self._write_unwritten()
        now_ms = int(self.clock() * 1000)
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(select(revoked_sessions.c.sid_hash)
                                    .where(revoked_sessions.c.expires_at > now_ms)).scalars().all()
        except SQLAlchemyError as exc:
            self._unavailable(exc)
            return
        with self._lock:
            self._from_store = frozenset(rows)
            self._local = {h: e for h, e in self._local.items() if e > now_ms or h in self._unwritten}
        self._available()

    def _write_unwritten(self) -> None:
        with self._lock:
            rows = [{"sid_hash": h, "expires_at": self._local[h]} for h in self._unwritten]
        if not rows:
            return
        now_ms = int(self.clock() * 1000)
        try:
            with self.begin() as conn:
                _insert_ignore(conn, rows)
                conn.execute(delete(revoked_sessions).where(revoked_sessions.c.expires_at <= now_ms))
        except SQLAlchemyError as exc:
            self._unavailable(exc)
            return
        with self._lock:
            self._unwritten.difference_update(r["sid_hash"] for r in rows)
        self._available()

    def _unavailable(self, exc: SQLAlchemyError) -> None:
        if self._store_error is None:
            log.warning("session revocations: the store is unavailable (%s); logouts served here hold here "
                        "and are written when it is back", type(exc).__name__)
        self._store_error = type(exc).__name__

    def _available(self) -> None:
        if self._store_error is not None:
            log.warning("session revocations: the store is available again")
            self._store_error = None


def _insert_ignore(conn: Connection, rows: list[dict[str, object]]) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(revoked_sessions).on_conflict_do_nothing(
        index_elements=[revoked_sessions.c.sid_hash]), rows)
