"""Label sets that must not vanish (issue 15): every (database, state) and (database, lock mode)
is reported, 0 when empty, as postgres_exporter's CROSS JOIN pg_database does; a replica's lag
is 0 when it has replayed all it received."""
from __future__ import annotations

import psycopg

from collectors.postgres import sessions, sql
from collectors.postgres.rows import Ctx
from tests.collectors.postgres.conftest import dbname, make, value

DATABASES = [[{"datname": d} for d in ("postgres", "shop", "template0", "template1")]]


def group(datname: str, state: str, count: int, tx: float = 0.0) -> dict:
    return {"datname": datname, "state": state, "usename": "app", "application_name": "shop",
            "wait_event_type": "", "wait_event": "", "count": count, "max_tx_duration": tx,
            "max_query_duration": None, "max_idle_in_tx": None}


def label_sets(result, name: str) -> dict[tuple[str, str], float]:
    return {(s.labels["datname"], s.labels.get("state") or s.labels["mode"]): s.value
            for s in result.samples if s.name == name}


def test_every_database_and_state_is_reported_with_zero_when_nobody_is_in_it():
    rows = [[group("shop", "idle", 3), group("postgres", "active", 1, 0.5)], [], *DATABASES]
    got = label_sets(sessions.activity(rows, Ctx(version=150000, now=0, watched=["shop"])), "pg_stat_activity_count")
    assert len(got) == 4 * len(sessions.STATES)
    assert got[("shop", "idle")] == 3 and got[("postgres", "active")] == 1
    assert got[("postgres", "idle")] == got[("template1", "disabled")] == got[("shop", "active")] == 0


def test_a_state_whose_last_session_ended_keeps_its_series_at_zero():
    ctx = Ctx(version=150000, now=0, watched=["shop"])
    busy = sessions.activity([[group("postgres", "active", 1, 2.0), group("shop", "idle", 3)], [], *DATABASES], ctx)
    quiet = sessions.activity([[group("shop", "idle", 3)], [], *DATABASES], ctx)
    for name in ("pg_stat_activity_count", "pg_stat_activity_max_tx_duration"):
        assert label_sets(busy, name).keys() == label_sets(quiet, name).keys()
        assert label_sets(quiet, name)[("postgres", "active")] == 0


def test_a_batch_without_the_database_list_still_reports_the_watched_databases():
    got = label_sets(sessions.activity([[], []], Ctx(version=150000, now=0, watched=["shop"])),
                     "pg_stat_activity_count")
    assert {d for d, _ in got} == {"shop"}


def test_every_database_and_lock_mode_is_reported_with_zero_when_nobody_holds_one():
    rows = [[{"datname": "shop", "mode": "accesssharelock", "count": 4}], [], *DATABASES]
    got = label_sets(sessions.locks(rows, Ctx(version=150000, now=0, watched=["shop"])), "pg_locks_count")
    assert len(got) == 4 * len(sessions.LOCK_MODES)
    assert got[("shop", "accesssharelock")] == 4 and got[("postgres", "accesssharelock")] == 0


def test_the_activity_and_locks_families_list_every_database_like_postgres_exporter():
    assert sql.ALL_DATABASES in sql.activity(150000) and sql.ALL_DATABASES in sql.locks(150000)
    assert "datistemplate" not in sql.ALL_DATABASES  # templates too, as its CROSS JOIN pg_database


def test_a_replica_that_replayed_all_it_received_is_not_behind_however_idle_the_primary():
    head = sql.replication(150000)[0]
    assert "WHEN NOT pg_is_in_recovery() THEN 0" in head  # a primary: 0, as postgres_exporter
    assert "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0" in head


def test_a_live_server_reports_every_state_of_every_database_across_polls(test_db):
    coll = make(test_db, families=["instance", "activity", "locks", "replication"])
    first = coll.run()
    assert first.up, first.error
    with psycopg.connect(test_db, autocommit=True) as other:  # a session that comes and goes
        other.execute("SELECT 1")
        second = coll.run()
    third = coll.run()

    ours = {"postgres", "template0", "template1", dbname(test_db)}  # other tests add and drop their own

    def keys(batch, name: str) -> set[tuple[str, ...]]:
        # (database, state or mode): the session's own labels (usename, application_name, ...)
        # come and go with it, as on postgres_exporter 0.20; these never do.
        return {(s.labels["datname"], s.labels.get("state") or s.labels["mode"]) for s in batch.samples
                if s.name == name and s.labels["datname"] in ours}

    for name in ("pg_stat_activity_count", "pg_stat_activity_max_tx_duration", "pg_locks_count"):
        assert keys(first, name) == keys(second, name) == keys(third, name), name
    assert ours <= {s.labels["datname"] for s in third.samples if s.name == "pg_stat_activity_count"}
    assert value(third, "pg_stat_activity_count", datname="template0", state="active") == 0
    # The system PostgreSQL is a primary: lag 0 and not a replica (the lag rule's only_if gate).
    assert value(third, "pg_replication_lag_seconds") == 0 and value(third, "pg_replication_is_replica") == 0
