"""One safe, lazily opened connection to one database of a watched server.

Every batch runs inside a read-only transaction that is rolled back, with
``statement_timeout``, ``lock_timeout`` and ``default_transaction_read_only``
set once at connection start and ``application_name = 'lookout'``. A batch
is ``BEGIN READ ONLY; <statements>; COMMIT`` sent as one pipeline: one
round trip. Statements are server-side prepared (the connection is Lookout's
own), so later polls skip parse, rewrite and plan of the catalog views. The
transaction is read-only, so COMMIT and ROLLBACK end it alike; it ends with
COMMIT because psycopg answers a ROLLBACK (statement or
``Connection.rollback()``) with DEALLOCATE ALL. After an error the aborted
transaction is rolled back. The connection is dropped on any
connection-level failure so the next poll reconnects.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.pq import ExecStatus
from psycopg.rows import dict_row

Rows = list[dict[str, Any]]
TUPLES_OK = ExecStatus.TUPLES_OK
_PASSWORD = re.compile(r"(password\s*=\s*)(\S+)|(://[^:/@]*:)([^@]*)(@)", re.I)


def safe_dsn(dsn: str) -> str:
    """The DSN with any password replaced by ``***`` (for errors and documents)."""
    return _PASSWORD.sub(lambda m: (m.group(1) + "***") if m.group(1) else (m.group(3) + "***" + m.group(5)), dsn)


def describe(exc: BaseException) -> str:
    """One line a human can act on; libpq messages carry no password."""
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0] if text else ''}".rstrip(": ")


class Connection:
    """A single psycopg 3 connection, opened on first use, reopened after failure."""

    def __init__(self, dsn: str, *, dbname: str | None = None, statement_timeout: float = 2.0,
                 lock_timeout: float = 1.0, connect_timeout: float = 5.0,
                 application_name: str = "lookout", prepare: bool = True) -> None:
        self.dsn = dsn
        self.dbname = dbname
        self.statement_timeout = statement_timeout
        self.lock_timeout = lock_timeout
        self.connect_timeout = connect_timeout
        self.application_name = application_name
        self.prepare = prepare
        self.conn: psycopg.Connection | None = None
        self.round_trips = 0  # batches sent (each one pipeline), for tests and the benchmark

    def open(self) -> psycopg.Connection:
        if self.conn is not None and not self.conn.closed and not self.conn.broken:
            return self.conn
        self.close()
        opts = (f"-c statement_timeout={int(self.statement_timeout * 1000)} "
                f"-c lock_timeout={int(self.lock_timeout * 1000)} "
                "-c default_transaction_read_only=on")
        # autocommit: the batch carries its own BEGIN READ ONLY ... ROLLBACK.
        kw: dict[str, Any] = {"autocommit": True, "application_name": self.application_name,
                              "options": opts, "connect_timeout": max(1, int(round(self.connect_timeout))),
                              "row_factory": dict_row}
        if self.dbname:
            kw["dbname"] = self.dbname
        conn = psycopg.connect(self.dsn, **kw)
        conn.read_only = True  # belt and braces: the session itself is read-only too
        self.conn = conn
        return conn

    @property
    def server_version(self) -> int:
        return self.open().info.server_version

    def backend_pid(self) -> int:
        return self.open().info.backend_pid

    def run(self, statements: Sequence[str]) -> list[Rows]:
        """Run statements in one read-only transaction and one round trip.

        Raises psycopg errors as they come; the transaction is always ended,
        and a broken connection is dropped so the next call reconnects.
        """
        conn = self.open()
        try:
            cursors = []
            with conn.pipeline():
                conn.execute("BEGIN READ ONLY", prepare=False)
                for stmt in statements:
                    cursors.append(conn.execute(stmt, prepare=self.prepare))
                conn.execute("COMMIT", prepare=False)  # read-only: nothing to commit; see above
            self.round_trips += 1
            # The result status, not cur.description: that builds a Column object per
            # column (~110 a default poll, ~0.25 ms of it; BENCHMARKS.md).
            return [cur.fetchall() if cur.pgresult is not None and cur.pgresult.status == TUPLES_OK else []
                    for cur in cursors]
        except psycopg.Error:
            self.round_trips += 1
            self._end_after_error()
            raise

    def _end_after_error(self) -> None:
        conn = self.conn
        if conn is None:
            return
        if conn.broken or conn.closed:
            self.close()
            return
        try:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK", prepare=False)
        except psycopg.Error:
            self.close()

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
