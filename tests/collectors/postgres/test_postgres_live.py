"""The PostgreSQL collector against real servers: PG 15 (system) and PG 18 (embedded)."""
from __future__ import annotations

import threading
import time

import psycopg
import pytest

from tests.collectors.postgres.conftest import Clock, dbname, make, value, values


def test_a_poll_reports_pg_up_version_uptime_and_max_connections(test_db):
    batch = make(test_db).run()
    assert batch.up, batch.error
    assert value(batch, "pg_up") == 1.0
    assert value(batch, "pg_settings_max_connections") > 0
    assert value(batch, "pg_settings_shared_buffers_bytes") >= 128 * 1024
    assert value(batch, "lookout_pg_uptime_seconds") > 0
    assert batch.documents["pg_server"]["version_num"] // 10000 == 15


def test_commits_grow_between_two_polls_and_the_cache_hit_ratio_comes_from_their_delta(test_db):
    coll = make(test_db)
    first = coll.run()
    with psycopg.connect(test_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g")
        for _ in range(20):
            conn.execute("SELECT count(*) FROM t")
    second = coll.run()
    d = dbname(test_db)
    before = value(first, "pg_stat_database_xact_commit", datname=d)
    assert value(second, "pg_stat_database_xact_commit", datname=d) >= before + 20
    assert not values(first, "lookout_pg_database_cache_hit_ratio", datname=d)
    assert 0.5 < value(second, "lookout_pg_database_cache_hit_ratio", datname=d) <= 1.0


def test_a_held_lock_shows_a_blocked_session_and_the_blocking_chain(test_db):
    with psycopg.connect(test_db, autocommit=True) as setup:
        setup.execute("CREATE TABLE held (id int)")
    holder = psycopg.connect(test_db)
    holder.execute("LOCK TABLE held IN ACCESS EXCLUSIVE MODE")
    blocked_conn = psycopg.connect(test_db, autocommit=True)
    blocked_pid = blocked_conn.info.backend_pid
    waiter = threading.Thread(target=lambda: blocked_conn.execute("SELECT count(*) FROM held"), daemon=True)
    waiter.start()
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            batch = make(test_db, families=["instance", "locks", "activity"]).run()
            if value(batch, "lookout_pg_blocked_sessions") >= 1:
                break
            time.sleep(0.1)
        doc = batch.documents["pg_blocking"]
        mine = [b for b in doc["blocked"] if b["pid"] == blocked_pid]
        assert mine and mine[0]["chain"] == [blocked_pid, holder.info.backend_pid]
        assert [r["pid"] for r in doc["roots"]] == [holder.info.backend_pid]
        assert value(batch, "pg_locks_count", datname=dbname(test_db), mode="accessexclusivelock") >= 1
    finally:
        holder.rollback()
        waiter.join(5)
        holder.close()
        blocked_conn.close()


def test_the_index_audit_lists_an_unused_and_a_duplicate_index(test_db):
    with psycopg.connect(test_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, customer int, placed date)")
        conn.execute("INSERT INTO orders SELECT g, g % 50, current_date FROM generate_series(1, 2000) g")
        conn.execute("CREATE INDEX orders_customer ON orders (customer)")
        conn.execute("CREATE INDEX orders_customer_placed ON orders (customer, placed)")
    batch = make(test_db, unused_index_min_bytes=0).run()
    audit = batch.documents["pg_index_audit"][dbname(test_db)]
    assert {"orders_customer", "orders_customer_placed"} <= {i["index"] for i in audit["unused"]}
    duplicates = [(i["index"], i["covered_by"]) for i in audit["duplicate"]]
    assert duplicates == [("orders_customer", "orders_customer_placed")]
    assert value(batch, "lookout_pg_duplicate_indexes", datname=dbname(test_db)) == 1
    assert value(batch, "lookout_pg_unused_indexes_bytes", datname=dbname(test_db)) > 0


def test_a_terminated_backend_fails_the_next_poll_with_pg_up_0_and_the_poll_after_reconnects(test_db, pg_admin_dsn):
    coll = make(test_db, families=["instance", "database"])
    assert coll.run().up
    with psycopg.connect(pg_admin_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE application_name = 'lookout' AND datname = %s", [dbname(test_db)])
    failed = coll.run()
    assert not failed.up and "lost the connection" in failed.error
    assert value(failed, "pg_up") == 0.0 and value(failed, "lookout_target_up") == 0.0
    again = coll.run()
    assert again.up and value(again, "pg_up") == 1.0


def test_an_unreachable_server_is_down_with_pg_up_0_and_no_password_in_the_error():
    batch = make("postgresql://lookout:s3cret@127.0.0.1:1/postgres", databases=["postgres"], timeout=8).run()
    assert not batch.up and "cannot connect" in batch.error and "s3cret" not in batch.error
    assert value(batch, "pg_up") == 0.0


def test_a_family_waiting_beyond_lock_timeout_is_cancelled_and_reported_while_others_collect(test_db):
    with psycopg.connect(test_db, autocommit=True) as setup:
        setup.execute("CREATE TABLE busy (id int)")
    holder = psycopg.connect(test_db)
    holder.execute("LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")
    try:
        batch = make(test_db, lock_timeout=0.2, families=["instance", "tables"]).run()
    finally:
        holder.rollback()
        holder.close()
    assert batch.up
    assert value(batch, "lookout_pg_family_up", family="tables") == 0.0
    assert value(batch, "lookout_pg_family_up", family="instance") == 1.0
    assert "lock timeout" in batch.documents["pg_errors"][f"tables:{dbname(test_db)}"]


def test_a_statement_slower_than_statement_timeout_is_cancelled_and_reported(test_db):
    with psycopg.connect(test_db, autocommit=True) as setup:  # 300 tables: sizing them takes far beyond 1 ms
        setup.execute("DO $$ BEGIN FOR i IN 1..300 LOOP EXECUTE format('CREATE TABLE slow_%s (id int)', i);"
                      " END LOOP; END $$")
    coll = make(test_db, families=["instance", "tables"])
    coll.main.statement_timeout = 0.001  # 1 ms
    batch = coll.run()
    assert batch.up and value(batch, "pg_up") == 1.0  # the server answered; a family did not
    errors = batch.documents["pg_errors"]
    assert value(batch, "lookout_pg_family_up", family="tables") == 0.0
    assert "statement timeout" in errors[f"tables:{dbname(test_db)}"]
    assert all("statement timeout" in e for e in errors.values())


def test_heavy_families_run_when_due_and_are_carried_in_between(test_db):
    clock = Clock()
    coll = make(test_db, clock=clock, families=["instance", "sizes"])
    first = coll.run()
    assert values(first, "pg_database_size_bytes") and not first.carried
    clock.t += 15
    between = coll.run()
    assert not values(between, "pg_database_size_bytes")
    assert any(s.name == "pg_database_size_bytes" for s in between.carried)
    clock.t += 300
    assert values(coll.run(), "pg_database_size_bytes")


def test_pg_stat_statements_missing_is_a_status_with_a_reason_not_an_error(test_db):
    batch = make(test_db, families=["instance", "statements"]).run()
    assert batch.up
    assert value(batch, "lookout_pg_stat_statements_available") == 0.0
    assert "shared_preload_libraries" in batch.documents["pg_stat_statements"]["reason"]


def test_pg18_lists_top_statements_and_checkpointer_counters(pg18_dsn):
    with psycopg.connect(pg18_dsn, autocommit=True) as conn:
        for _ in range(5):
            conn.execute("SELECT pg_sleep(0.01)")
    batch = make(pg18_dsn, families=["instance", "statements", "bgwriter", "wal"]).run()
    assert batch.up, batch.error
    assert value(batch, "lookout_pg_stat_statements_available") == 1.0
    top = batch.documents["pg_stat_statements"]["top"]
    sleep = [t for t in top if "pg_sleep" in (t["query"] or "")]
    assert sleep and sleep[0]["calls"] >= 5 and sleep[0]["total_seconds"] >= 0.05
    assert value(batch, "pg_stat_statements_calls_total", queryid=sleep[0]["queryid"]) >= 5
    assert values(batch, "pg_stat_checkpointer_num_timed_total")
    assert not values(batch, "pg_stat_bgwriter_checkpoints_timed_total")
    assert values(batch, "pg_stat_wal_bytes_total")


def test_a_role_with_only_pg_monitor_still_collects(test_db, pg_admin_dsn):
    role = f"lookout_mon_{dbname(test_db)[-10:]}"
    with psycopg.connect(pg_admin_dsn, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN IN ROLE pg_monitor")
    try:
        dsn = psycopg.conninfo.make_conninfo(test_db, user=role)
        coll = make(dsn, unused_index_min_bytes=0)
        batch = coll.run()
        coll.close()
        assert batch.up, batch.error
        assert batch.documents["pg_errors"] == {}
        assert value(batch, "pg_up") == 1.0 and values(batch, "pg_stat_activity_count")
    finally:
        with psycopg.connect(pg_admin_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role])
            admin.execute(f"DROP ROLE {role}")


@pytest.mark.parametrize("family", ["tables", "sequences"])
def test_per_database_families_label_series_with_the_database(test_db, family):
    with psycopg.connect(test_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE items (id int)")
        conn.execute("CREATE SEQUENCE nearly_full MAXVALUE 100")
        conn.execute("SELECT setval('nearly_full', 95)")
    batch = make(test_db, families=["instance", family]).run()
    if family == "tables":
        assert value(batch, "pg_stat_user_tables_n_live_tup", datname=dbname(test_db), relname="items") == 0
    else:
        assert value(batch, "lookout_pg_sequence_used_ratio", sequencename="nearly_full") > 0.9


def test_a_default_poll_is_one_prepared_statement_in_one_round_trip(test_db, tmp_path):
    coll = make(test_db)  # default families and intervals: the heavy ones run on the first poll only
    assert coll.run().up and coll.run().up  # the default batch is prepared on its first run (the second poll)
    trace = tmp_path / "libpq.trace"
    with open(trace, "w") as f:
        coll.main.conn.pgconn.trace(f.fileno())  # the wire protocol, as libpq sends and receives it
        batch = coll.run()
        coll.main.conn.pgconn.untrace()
    # "<time>\tF\t<length>\t<message> ...": the messages Lookout sent (F = frontend)
    sent = [line.split("\t")[3].split(" ")[0] for line in trace.read_text().splitlines() if "\tF\t" in line]
    assert batch.up, batch.error
    assert not coll.per_db and sent.count("Sync") == 1  # one wait for the server
    assert sent.count("Parse") == 0  # already prepared
    assert sent.count("Bind") == sent.count("Execute") == 1  # every fast family in one statement


def test_pg18_top_statements_travel_with_their_probe_once_the_extension_is_known(pg18_dsn):
    clock = Clock()
    coll = make(pg18_dsn, clock=clock, families=["instance", "statements"])
    assert value(coll.run(), "lookout_pg_stat_statements_available") == 1.0  # probe, then the top statements
    before = coll.main.round_trips
    clock.t += 60
    again = coll.run()
    assert coll.main.round_trips - before == 1
    assert value(again, "lookout_pg_stat_statements_available") == 1.0
    assert again.documents["pg_stat_statements"]["top"]


def test_pg18_lookout_s_own_statements_are_kept_out_of_the_top_list_and_reported_apart(pg18_dsn):
    clock = Clock()
    coll = make(pg18_dsn, clock=clock, families=["instance", "activity", "statements"])
    for _ in range(3):
        assert coll.run().up
        clock.t += 60
    with psycopg.connect(pg18_dsn, autocommit=True) as c:  # someone else's statement
        c.execute("SELECT count(*) FROM pg_class WHERE relname <> 'x'").fetchall()
    batch = coll.run()
    doc = batch.documents["pg_stat_statements"]
    assert doc["top"] and not any("/* lookout */" in (r["query"] or "") for r in doc["top"])
    assert any("FROM pg_class WHERE relname" in (r["query"] or "") for r in doc["top"])
    assert doc["lookout"]["calls"] >= 3 and doc["lookout"]["total_seconds"] > 0
    assert value(batch, "lookout_pg_own_statements_calls_total") == doc["lookout"]["calls"]
    with psycopg.connect(pg18_dsn, autocommit=True) as c:  # they are there, marked
        marked = c.execute("SELECT count(*) FROM pg_stat_statements WHERE query LIKE 'SELECT /* lookout */%'")
        assert marked.fetchone()[0] >= 2
