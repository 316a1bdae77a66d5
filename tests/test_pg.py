"""The tests' own PostgreSQL plumbing (tests/pg.py, tests/conftest.py): clones, and the one clear
message a run prints when the server has no connection left."""
from __future__ import annotations

import psycopg
import pytest
import sqlalchemy.exc
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests import pg


def _full_error(server: pg.PgServer) -> psycopg.OperationalError:
    """The error libpq gives a client the server turns away, naming this server."""
    u = server.url
    where = (f'on socket "{u.query["host"]}/.s.PGSQL.{u.port or 5432}"' if u.query.get("host")
             else f'at "{u.host}", port {u.port or 5432}')
    return psycopg.OperationalError(f"connection to server {where} failed: FATAL:  sorry, too many clients already")


def test_the_out_of_connections_message_names_the_server_its_limit_and_who_holds_the_connections(
        pg_server, make_pg_database):
    name = make_url(make_pg_database("lookout_holder")).database
    holders = [psycopg.connect(pg.libpq_dsn(pg_server.url_of(name)), application_name="holder-of-two")
               for _ in range(2)]
    try:
        message = pg_server.out_of_connections_report(_full_error(pg_server))
        limit = pg_server.execute("SHOW max_connections")[0][0]
    finally:
        for conn in holders:
            conn.close()

    assert message.startswith(f"PostgreSQL at {pg_server.label} is out of connections: max_connections={limit} ")
    assert "sorry, too many clients already" in message
    table = [line.split() for line in message.splitlines() if line.split()[0].isdigit()]
    assert ["2", "holder-of-two", name] in table
    assert f"{pg.APP} admin" in message and "this test run" in message


def test_the_error_is_recognised_when_sqlalchemy_wraps_it_or_an_assertion_quotes_it():
    reserved = psycopg.OperationalError("FATAL:  remaining connection slots are reserved for non-replication "
                                        "superuser connections")
    wrapped = sqlalchemy.exc.OperationalError("SELECT 1", None, reserved)

    assert pg.is_out_of_connections(wrapped)
    assert pg.is_out_of_connections(AssertionError("batch.error='FATAL: sorry, too many clients already'"))
    assert not pg.is_out_of_connections(psycopg.OperationalError("FATAL: password authentication failed"))


def test_a_run_that_meets_a_full_server_explains_it_once_and_shortens_every_other_failure(pytester, pg_server):
    pytester.makeconftest("from tests.conftest import pytest_runtest_makereport, pytest_terminal_summary\n")
    pytester.makepyfile(f"""
        import psycopg

        def fail():
            raise psycopg.OperationalError({str(_full_error(pg_server))!r})

        def test_one():
            fail()

        def test_two():
            fail()

        def test_three():
            fail()
    """)

    # -rN: no short summary, whose line would repeat the message once more where the terminal is wide.
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rN")

    result.assert_outcomes(failed=3)
    out = result.stdout.str()
    full = f"PostgreSQL at {pg_server.label} is out of connections: max_connections="
    assert out.count(full) == 2  # in test_one and in the summary
    assert out.count("who holds them: see test_a_run_that_meets_a_full_server_explains_it_once") == 2
    assert "3 test(s) failed because of it" in out
    assert "def fail" not in out  # no traceback


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_clone_of_a_seeded_database_starts_with_its_rows_and_keeps_its_changes_to_itself(
        backend, clone_store_url, make_pg_database, tmp_path):
    seeded = f"sqlite:///{tmp_path / 'seeded.db'}" if backend == "sqlite" else make_pg_database("lookout_seeded")
    engine = create_engine(seeded)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (v integer)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    engine.dispose()

    copies = [create_engine(clone_store_url(seeded)) for _ in range(2)]
    with copies[0].begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (2)"))

    try:
        seen = []
        for e in copies:
            with e.connect() as conn:
                seen.append(list(conn.execute(text("SELECT v FROM t ORDER BY v")).scalars()))
        assert seen == [[1, 2], [1]]
    finally:
        for e in copies:
            e.dispose()
