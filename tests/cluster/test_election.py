from __future__ import annotations

import psycopg
import pytest

from cluster.election import Election
from tests.conftest import libpq_dsn

KEY = 0x7E57


@pytest.fixture
def dsn(make_pg_database) -> str:
    return libpq_dsn(make_pg_database("lookout_election"))


def test_of_two_candidates_exactly_one_leads(dsn: str) -> None:
    a, b = Election(dsn, KEY, "a"), Election(dsn, KEY, "b")
    try:
        assert [a.check(), b.check()] == [True, False]
        assert [a.check(), b.check()] == [True, False]  # re-checking keeps the roles
    finally:
        a.resign(), b.resign()


def test_the_other_candidate_takes_over_when_the_leaders_connection_closes(dsn: str) -> None:
    a, b = Election(dsn, KEY, "a"), Election(dsn, KEY, "b")
    try:
        assert a.check() and not b.check()
        a._conn.close()  # as when the leader's process dies: the session and its lock end
        assert b.check()
        assert not a.check()  # the old leader learns it lost on its next cycle
    finally:
        a.resign(), b.resign()


def test_a_leader_whose_session_is_terminated_by_the_server_loses_the_role(dsn: str) -> None:
    a, b = Election(dsn, KEY, "a"), Election(dsn, KEY, "b")
    try:
        assert a.check()
        pid = a._conn.info.backend_pid
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert not a.check()
        assert b.check()
    finally:
        a.resign(), b.resign()


def test_a_resigned_leader_hands_over_at_once(dsn: str) -> None:
    a, b = Election(dsn, KEY, "a"), Election(dsn, KEY, "b")
    try:
        assert a.check()
        a.resign()
        assert b.check()
    finally:
        a.resign(), b.resign()
