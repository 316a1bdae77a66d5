"""The batch connection: one pipeline per batch, statements server-side prepared once per session."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest
from psycopg.rows import dict_row

from collectors.postgres.connection import Connection

PREPARED = "SELECT count(*)::int AS n FROM pg_prepared_statements"  # this session's, itself included


@pytest.fixture
def connect(test_db):
    """Factory of Connections to the test database, closed at the end of the test."""
    made: list[Connection] = []

    def make(**kw) -> Connection:
        made.append(Connection(test_db, **kw))
        return made[-1]
    yield make
    for c in made:
        c.close()


def test_rows_come_back_as_psycopg_dict_rows_would(test_db, connect):
    stmt = ("SELECT 1::int AS i, 2.5::float8 AS f, 1.25::numeric AS d, 'x'::text AS t, NULL::text AS n,"
            " true AS b, '2024-01-02 03:04:05+00'::timestamptz AS ts, ARRAY[1, 2] AS arr, '{3}'::int8[] AS big")
    with psycopg.connect(test_db, row_factory=dict_row) as plain:
        expected = plain.execute(stmt).fetchall()
    got = connect().run([stmt, "SELECT 1 AS one WHERE false"])
    assert got == [expected, []]
    row = got[0][0]
    assert isinstance(row["d"], Decimal) and isinstance(row["ts"], dt.datetime) and row["arr"] == [1, 2]


def test_a_statement_is_parsed_on_its_first_batch_only(connect):
    conn = connect()
    assert conn.run([PREPARED]) == [[{"n": 1}]]  # prepared in the same pipeline, then run
    assert conn.run(["SELECT 2 AS two", PREPARED]) == [[{"two": 2}], [{"n": 2}]]
    assert conn.run(["SELECT 2 AS two", PREPARED]) == [[{"two": 2}], [{"n": 2}]]  # nothing prepared twice


def test_without_prepared_statements_nothing_is_left_prepared_on_the_server(connect):
    conn = connect(prepare=False)
    assert conn.run([PREPARED]) == [[{"n": 0}]]
    assert conn.run([PREPARED]) == [[{"n": 0}]]


def test_a_failing_statement_raises_its_own_error_and_the_connection_stays_usable(connect):
    conn = connect()
    with pytest.raises(psycopg.errors.UndefinedTable):
        conn.run(["SELECT 1 AS a", "SELECT * FROM no_such_table", "SELECT 3 AS c"])
    pid = conn.backend_pid()
    # psycopg's rollback deallocates every prepared statement: the next batch prepares afresh.
    assert conn.run(["SELECT 1 AS a", PREPARED]) == [[{"a": 1}], [{"n": 2}]]
    assert conn.backend_pid() == pid and conn.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_an_error_during_execution_rolls_the_transaction_back(connect):
    conn = connect()
    with pytest.raises(psycopg.errors.DivisionByZero):
        conn.run(["SELECT 1 / (random() * 0)::int AS boom"])
    assert conn.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert conn.run(["SELECT 1 AS a"]) == [[{"a": 1}]]


def test_a_terminated_backend_drops_the_connection_and_the_next_batch_reconnects(connect, pg_admin_dsn):
    conn = connect()
    pid = conn.backend_pid()
    with psycopg.connect(pg_admin_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    with pytest.raises(psycopg.OperationalError):
        conn.run(["SELECT 1 AS a"])
    assert conn.conn is None
    # A new session: nothing of the old one is assumed prepared.
    assert conn.run(["SELECT 1 AS a", PREPARED]) == [[{"a": 1}], [{"n": 2}]]
