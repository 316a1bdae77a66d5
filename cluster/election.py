"""Leader election through PostgreSQL session-level advisory locks.

Each role (evaluator, dispatcher, maintenance) has its own lock key and its own
dedicated connection. Whoever gets ``pg_try_advisory_lock`` leads while that
session lives: the lock goes with the session, so a killed process (its socket
closes) or a lost connection hands the role over at the next candidate's
check. ``check()`` is called every cycle; any error on the connection is lost
leadership. TCP keepalives and ``tcp_user_timeout`` bound how long a silent
network partition can keep a stale leader believing it leads; the work it does
meanwhile is compare-and-set in the store (alert saves, outbox claims), so two
leaders for a moment cost a lost race, not a duplicate.

    e = Election("postgresql://postgres@127.0.0.1/lookout", EVALUATOR)
    if e.check():
        ...  # lead this cycle
"""
from __future__ import annotations

import logging
import threading
from typing import Any

import psycopg

log = logging.getLogger("lookout.cluster")

# Advisory lock keys, per database; any constants shared by all Lookout workers.
EVALUATOR = 0x4C4B4556  # "LKEV"
DISPATCHER = 0x4C4B4450  # "LKDP"
MAINTENANCE = 0x4C4B4D54  # "LKMT"
KEYS = {"evaluator": EVALUATOR, "dispatcher": DISPATCHER, "maintenance": MAINTENANCE}

_CONNECT: dict[str, Any] = {"autocommit": True, "connect_timeout": 5, "application_name": "lookout-election",
            "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 2,
            "tcp_user_timeout": 10000, "options": "-c statement_timeout=5000"}


class Election:
    def __init__(self, dsn: str, key: int, name: str = "") -> None:
        self.dsn = dsn
        self.key = key
        self.name = name or hex(key)
        self._conn: psycopg.Connection | None = None
        self._leader = False
        self._lock = threading.Lock()

    @property
    def is_leader(self) -> bool:
        """The answer of the latest check (no I/O)."""
        return self._leader

    def check(self) -> bool:
        """Whether this process leads now: keeps, takes or loses the role."""
        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._leader = False
                    self._conn = psycopg.connect(self.dsn, **_CONNECT)
                if self._leader:
                    # A session-level lock lasts as long as the session: a live
                    # session means the lock is still ours.
                    self._conn.execute("SELECT 1")
                else:
                    row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
                    self._leader = bool(row and row[0])
                    if self._leader:
                        log.info("this worker is now the %s", self.name)
            except psycopg.Error as exc:
                if self._leader:
                    log.warning("lost the %s role: %s", self.name, exc)
                self._drop()
            return self._leader

    def resign(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        self._leader = False
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()  # ends the session: the lock is released with it
            except psycopg.Error:
                pass
