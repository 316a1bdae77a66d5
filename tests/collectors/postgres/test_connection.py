"""The batch connection: one statement per batch, read-only, server-side prepared once per session."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest
from psycopg.rows import dict_row

from collectors.postgres.connection import Connection
from collectors.postgres.rows import num

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


def test_rows_come_back_as_json_gives_them_and_read_as_the_driver_s_values(test_db, connect):
    stmt = ("SELECT 1::int AS i, 2.5::float8 AS f, 1.25::numeric AS d, 'x'::text AS t, NULL::text AS n,"
            " true AS b, '2024-01-02 03:04:05.25+00'::timestamptz AS ts, ARRAY[1, 2] AS arr,"
            " 9007199254740993::int8 AS big")
    with psycopg.connect(test_db, row_factory=dict_row) as plain:
        native = plain.execute(stmt).fetchone()
    got = connect().run([stmt, "SELECT 1 AS one WHERE false"])
    assert got[1] == [] and len(got[0]) == 1
    row = got[0][0]
    assert row == {"i": 1, "f": 2.5, "d": 1.25, "t": "x", "n": None, "b": True,
                   "ts": "2024-01-02T03:04:05.25+00:00", "arr": [1, 2], "big": 9007199254740993}
    assert isinstance(native["d"], Decimal) and isinstance(native["ts"], dt.datetime)
    # What the mappers read from either form is the same number (a bigint above 2**53 stays exact).
    for col in ("i", "f", "d", "b", "ts", "big"):
        assert num(row[col]) == num(native[col]), col
    assert row["big"] == native["big"]


def test_each_statement_keeps_its_rows_in_their_order(connect):
    got = connect().run([
        "SELECT g AS n FROM generate_series(1, 500) g ORDER BY g DESC LIMIT 7",
        "SELECT relname FROM pg_class WHERE relname IN ('pg_class', 'pg_index') ORDER BY relname",
        "WITH x AS (SELECT 3 AS a) SELECT a, a * 2 AS b FROM x",
    ])
    assert got == [[{"n": n} for n in range(500, 493, -1)],
                   [{"relname": "pg_class"}, {"relname": "pg_index"}], [{"a": 3, "b": 6}]]


def test_a_batch_is_one_statement_prepared_on_its_first_run_only(connect):
    conn = connect()
    assert conn.run([PREPARED, "SELECT 2 AS two"]) == [[{"n": 1}], [{"two": 2}]]  # the batch, prepared
    assert conn.run([PREPARED, "SELECT 2 AS two"]) == [[{"n": 1}], [{"two": 2}]]  # nothing prepared twice
    assert conn.run(["SELECT 2 AS two", PREPARED]) == [[{"two": 2}], [{"n": 2}]]  # another batch: another one
    assert conn.round_trips == 3


def test_without_prepared_statements_nothing_is_left_prepared_on_the_server(connect):
    conn = connect(prepare=False)
    assert conn.run([PREPARED]) == [[{"n": 0}]]
    assert conn.run([PREPARED]) == [[{"n": 0}]]


def test_a_failing_statement_raises_its_own_error_and_the_connection_stays_usable(connect):
    conn = connect()
    assert conn.run(["SELECT 1 AS a", PREPARED]) == [[{"a": 1}], [{"n": 1}]]
    pid = conn.backend_pid()
    with pytest.raises(psycopg.errors.UndefinedTable):
        conn.run(["SELECT 1 AS a", "SELECT * FROM no_such_table", "SELECT 3 AS c"])
    with pytest.raises(psycopg.errors.DivisionByZero):
        conn.run(["SELECT 1 / (random() * 0)::int AS boom"])  # fails while executing, after it was prepared
    # Same session, idle, and what was prepared before is still prepared (nothing rolled back).
    assert conn.run(["SELECT 1 AS a", PREPARED]) == [[{"a": 1}], [{"n": 2}]]
    assert conn.backend_pid() == pid and conn.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_a_batch_runs_read_only(test_db, connect):
    with psycopg.connect(test_db, autocommit=True) as admin:
        admin.execute("CREATE SEQUENCE IF NOT EXISTS ro_probe")
    conn = connect()
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.run(["SELECT 1 AS a", "SELECT nextval('ro_probe') AS n"])
    assert conn.run(["SELECT 1 AS a"]) == [[{"a": 1}]]


def test_the_statement_timeout_bounds_the_whole_batch(connect):
    conn = connect(statement_timeout=0.5)
    assert conn.run(["SELECT true AS slept FROM pg_sleep(0.3)"]) == [[{"slept": True}]]
    with pytest.raises(psycopg.errors.QueryCanceled):  # each alone would finish in time
        conn.run(["SELECT true AS a FROM pg_sleep(0.3)", "SELECT true AS b FROM pg_sleep(0.3)"])
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
    assert conn.run(["SELECT 1 AS a", PREPARED]) == [[{"a": 1}], [{"n": 1}]]


def test_a_batch_is_one_json_value_and_its_size_is_bounded_by_the_server_s_limit(connect):
    from collectors.postgres.connection import MAX_STATEMENTS, merged
    conn = connect()
    many = [f"SELECT {i} AS i" for i in range(MAX_STATEMENTS)]
    assert conn.run(many) == [[{"i": i}] for i in range(MAX_STATEMENTS)]  # json_build_array's 100 arguments
    with pytest.raises(ValueError, match=f"at most {MAX_STATEMENTS} statements, got {MAX_STATEMENTS + 1}"):
        merged(many + ["SELECT 1"])
    from collectors.postgres import FAMILIES
    # The largest batch there is, every family's statements at once, is far below it.
    assert sum(len(f.statements(180000, {"statements_top": 50, "tables_top": 200, "unused_index_min_bytes": 0}))
               + (1 if f.probe else 0) for f in FAMILIES) < MAX_STATEMENTS
