"""One safe, lazily opened connection to one database of a watched server.

``statement_timeout``, ``lock_timeout`` and ``default_transaction_read_only``
are set once right after connecting (:data:`SESSION`, one round trip), with
``application_name = 'lookout'``. A
batch (all due families of one connection) is sent as ONE statement: each
family statement becomes a JSON subquery of a single SELECT (:func:`merged`),
run in autocommit mode, i.e. in its own read-only implicit transaction with
one snapshot. One round trip, one Bind/Execute, one row to read: measured
against a pipeline of one statement per query (docs/BENCHMARKS.md), the client
side of a poll costs about half as much, and Lookout leaves one entry per
batch in the server's pg_stat_statements instead of one per query. The
statement is server-side prepared (the connection is Lookout's own), so later
polls skip parse, rewrite and plan of the catalog views. The whole batch
shares one ``statement_timeout``; when it fails the collector re-runs each
family alone to name the one at fault. The connection is dropped on any
connection-level failure so the next poll reconnects.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import tuple_row

Rows = list[dict[str, Any]]
# After SELECT, where pg_stat_statements keeps it (a leading comment is cut off): the statements
# family lists the server's top statements without Lookout's own and reports those apart.
MARK = "/* lookout */"
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
        self.round_trips = 0  # batches sent (each one statement), for tests and the benchmark
        self._merged: dict[tuple[str, ...], str] = {}

    def open(self) -> psycopg.Connection:
        if self.conn is not None and not self.conn.closed and not self.conn.broken:
            return self.conn
        self.close()
        # autocommit: a batch is one statement, its own (read-only) implicit transaction.
        kw: dict[str, Any] = {"autocommit": True, "application_name": self.application_name,
                              "connect_timeout": max(1, int(round(self.connect_timeout)))}
        if self.dbname:
            kw["dbname"] = self.dbname
        conn = psycopg.connect(self.dsn, **kw)
        try:
            # SET, not startup options: pg_settings then keeps the server's value of each in
            # reset_val (source 'session'), so pg_settings_* report the server, not this session.
            conn.execute(SESSION, (str(int(self.statement_timeout * 1000)), str(int(self.lock_timeout * 1000))),
                         prepare=False)
        except BaseException:
            conn.close()
            raise
        conn.read_only = True  # belt and braces: the session itself is read-only too
        self.conn = conn
        return conn

    @property
    def server_version(self) -> int:
        return self.open().info.server_version

    def backend_pid(self) -> int:
        return self.open().info.backend_pid

    def run(self, statements: Sequence[str]) -> list[Rows]:
        """Run statements as one statement, one round trip; their rows, in order.

        Each statement becomes a ``json_agg`` subquery of a single SELECT (see
        :func:`merged`): one Bind/Execute on the server and one JSON value to
        read instead of one result set per statement. Rows therefore come back
        as JSON gives them: numbers as int or float, timestamps as ISO strings
        (``rows.num`` reads both). Raises psycopg errors as they come; a broken
        connection is dropped so the next call reconnects.
        """
        if not statements:
            return []
        conn = self.open()
        query = self._merged.get(tuple(statements))
        if query is None:
            if len(self._merged) >= 64:  # due-family combinations are few; bound it anyway
                self._merged.clear()
            query = self._merged[tuple(statements)] = merged(statements)
        try:
            cur = conn.cursor(row_factory=tuple_row)
            row = cur.execute(query, prepare=self.prepare).fetchone()
        except psycopg.Error:
            self.round_trips += 1
            self._end_after_error()
            raise
        self.round_trips += 1
        if row is None:  # a json_build_array select always returns one row
            raise psycopg.ProgrammingError("the merged statement returned no row")
        return row[0]

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


# What Lookout sets on its own session (one round trip after connecting). The settings family
# (server.settings) reports the server's value of these (reset_val), not Lookout's.
SESSION = ("SELECT set_config('statement_timeout', %s, false), set_config('lock_timeout', %s, false),"
           " set_config('default_transaction_read_only', 'on', false)")

MAX_STATEMENTS = 100  # json_build_array's arguments: PostgreSQL's FUNC_MAX_ARGS


def merged(statements: Sequence[str]) -> str:
    """One SELECT of one JSON value: an array whose item ``i`` is statement ``i``'s rows.

    ``json_agg`` takes rows in the order its subquery returns them, so an
    ORDER BY ... LIMIT inside stays ordered (the PostgreSQL manual's "sorted
    subquery" way of feeding an aggregate: it "will usually work"; the plain
    subquery scan here does not reorder). An empty result is ``[]``. One
    value rather than a column per statement: the client decodes one JSON
    document, not one per statement (docs/BENCHMARKS.md). A batch holds at most
    the families' statements (under 30); :data:`MAX_STATEMENTS` is the
    server's limit. The statement carries :data:`MARK`, so
    pg_stat_statements tells it apart.
    """
    if len(statements) > MAX_STATEMENTS:
        raise ValueError(f"a batch takes at most {MAX_STATEMENTS} statements, got {len(statements)}")
    return f"SELECT {MARK} json_build_array(" + ", ".join(
        f"(SELECT coalesce(json_agg(q), '[]') FROM ({s}) q)" for s in statements) + ")"
