"""PgBouncer under pgbouncer_exporter's names, against the real PgBouncer of conftest.py.

The side-by-side comparison with the Debian exporter is tests/exporter/peers/test_pgbouncer_exporter.py;
these check what only a known PgBouncer state can tell: scales, labels, counts, failures.
"""
from __future__ import annotations

import subprocess

import psycopg
import pytest

from collectors.pool import PoolCollector, PoolTarget, pgbouncer
from tests.support import free_port


def make(**kw) -> PoolCollector:
    return PoolCollector(PoolTarget(name="pools", kind="pool", interval=15, timeout=10, **kw))


def values(batch, metric, **labels):
    return [s.value for s in batch.samples if s.name == metric and all(s.labels.get(k) == v for k, v in labels.items())]


def series(samples, metric):
    return {tuple(sorted(s.labels.items())): s.value for s in samples if s.name == metric}


@pytest.fixture
def collector(pgbouncer_admin_dsn):
    c = make(pgbouncer={"dsn": pgbouncer_admin_dsn})
    yield c
    c.close()


@pytest.fixture
def client_dsn(pgbouncer_admin_dsn) -> str:
    return pgbouncer_admin_dsn.rsplit("/", 1)[0] + "/postgres"


def test_stats_totals_are_served_under_the_newest_and_the_older_exporter_names(collector, client_dsn):
    with psycopg.connect(client_dsn, prepare_threshold=None, autocommit=True) as conn:
        conn.execute("SELECT 1")
        before = collector.run()
        for _ in range(5):
            conn.execute("SELECT 1")
    after = collector.run()

    def pooled(batch, name):
        return values(batch, name, database="postgres")[0]

    assert pooled(after, "pgbouncer_stats_totals_queries_pooled_total") - \
        pooled(before, "pgbouncer_stats_totals_queries_pooled_total") >= 5
    newest = {s.name.removeprefix("pgbouncer_stats_totals_"): s.value for s in after.samples
              if s.name.startswith("pgbouncer_stats_totals_") and s.labels["database"] == "postgres"}
    older = {s.name.removeprefix("pgbouncer_stats_"): s.value for s in after.samples
             if s.name.startswith("pgbouncer_stats_") and not s.name.startswith("pgbouncer_stats_totals_")
             and s.labels["database"] == "postgres"}
    assert older == newest  # PgBouncer 1.18 has none of the 1.23+ columns that only the newest names
    assert set(older) == {"queries_pooled_total", "queries_duration_seconds_total", "received_bytes_total",
                          "sent_bytes_total", "client_wait_seconds_total", "sql_transactions_pooled_total",
                          "server_in_transaction_seconds_total"}
    assert {s.kind for s in after.samples if s.name.startswith("pgbouncer_stats_")} == {"counter"}


def test_query_time_is_in_seconds_not_microseconds(collector, client_dsn):
    with psycopg.connect(client_dsn, prepare_threshold=None, autocommit=True) as conn:
        conn.execute("SELECT 1")
        before = values(collector.run(), "pgbouncer_stats_totals_queries_duration_seconds_total", database="postgres")
        conn.execute("SELECT pg_sleep(0.3)")
    after = values(collector.run(), "pgbouncer_stats_totals_queries_duration_seconds_total", database="postgres")

    assert 0.3 <= after[0] - before[0] < 300  # microseconds would read 300,000


def test_clients_are_counted_by_database_user_application_name_and_state(collector, client_dsn):
    held = [psycopg.connect(client_dsn, prepare_threshold=None, autocommit=True, application_name="shop-api")
            for _ in range(2)]
    try:
        batch = collector.run()
    finally:
        for c in held:
            c.close()

    assert values(batch, "pgbouncer_client_connections", database="postgres", user="postgres",
                  application_name="shop-api", state="active") == [2.0]
    # Lookout's own console connection, named so that it can be told apart.
    assert values(batch, "pgbouncer_client_connections", database="pgbouncer", user="postgres",
                  application_name="lookout", state="active") == [1.0]


def test_the_console_connection_keeps_an_application_name_the_dsn_gives(pgbouncer_admin_dsn):
    c = make(pgbouncer={"dsn": pgbouncer_admin_dsn + "?application_name=ops"})
    try:
        batch = c.run()
    finally:
        c.close()
    assert values(batch, "pgbouncer_client_connections", database="pgbouncer", application_name="ops") == [1.0]
    assert values(batch, "pgbouncer_client_connections", application_name="lookout") == []


def test_lists_config_and_version_are_served(collector):
    batch = collector.run()

    version = subprocess.run(["/usr/sbin/pgbouncer", "--version"], capture_output=True, text=True).stdout
    assert values(batch, "pgbouncer_version_info", version=version.splitlines()[0]) == [1.0]
    assert values(batch, "pgbouncer_config_max_client_connections") == [100.0]  # conftest's ini: the default
    assert values(batch, "pgbouncer_config_max_user_connections") == [0.0]
    assert values(batch, "pgbouncer_used_clients")[0] >= 1  # at least Lookout's own connection
    for name in ("databases", "users", "pools", "free_clients", "login_clients", "free_servers", "used_servers",
                 "cached_dns_names", "cached_dns_zones", "in_flight_dns_queries"):
        assert len(values(batch, f"pgbouncer_{name}")) == 1, name


def test_databases_carry_the_exporters_labels_with_empty_strings_for_null(collector, client_dsn):
    with psycopg.connect(client_dsn, prepare_threshold=None, autocommit=True) as conn:
        conn.execute("SELECT 1")  # the wildcard entry makes the database `postgres` appear
    batch = collector.run()

    assert series(batch.samples, "pgbouncer_databases_pool_size")[tuple(sorted({
        "name": "postgres", "host": "127.0.0.1", "port": "5432", "database": "postgres", "force_user": "",
        "pool_mode": ""}.items()))] == 3.0  # conftest's default_pool_size
    for name in ("reserve_pool", "max_connections", "current_connections", "paused", "disabled"):
        assert values(batch, f"pgbouncer_databases_{name}", name="postgres"), name


def test_pgbouncer_up_is_0_and_the_target_down_when_pgbouncer_does_not_answer():
    c = make(pgbouncer={"dsn": f"postgresql://postgres@127.0.0.1:{free_port()}/pgbouncer"})
    batch = c.run()

    assert not batch.up
    assert "cannot connect to" in (batch.error or "")
    assert values(batch, "pgbouncer_up") == [0.0]


def test_pgbouncer_up_is_0_while_another_source_keeps_the_target_up(pg_admin_dsn):
    c = make(pgbouncer={"dsn": f"postgresql://postgres@127.0.0.1:{free_port()}/pgbouncer"},
             server={"dsn": pg_admin_dsn})
    try:
        batch = c.run()
    finally:
        c.close()

    assert batch.up, batch.error
    assert values(batch, "pgbouncer_up") == [0.0]
    assert values(batch, "lookout_pool_source_up", source="pgbouncer") == [0.0]


# Rows as PgBouncer 1.24 prints them (the Debian PgBouncer here is 1.18): renamed and added columns.
PGBOUNCER_1_24 = {
    "version": [{"version": "PgBouncer 1.24.1"}],
    "databases": [{"name": "shop", "host": "db1", "port": 5432, "database": "shop", "force_user": None,
                   "pool_size": 20, "min_pool_size": 0, "reserve_pool_size": 5, "server_lifetime": 3600,
                   "pool_mode": "transaction", "load_balance_hosts": None, "max_connections": 0,
                   "current_connections": 7, "max_client_connections": 0, "current_client_connections": 9,
                   "paused": 0, "disabled": 0}],
    "stats_totals": [{"database": "shop", "server_assignment_count": 41, "xact_count": 40, "query_count": 80,
                      "bytes_received": 1000, "bytes_sent": 2000, "xact_time": 1_500_000, "query_time": 1_000_000,
                      "wait_time": 250_000, "client_parse_count": 3, "server_parse_count": 2, "bind_count": 6}],
    "pools": [{"database": "shop", "user": "app", "cl_active": 9, "cl_waiting": 2, "cl_active_cancel_req": 0,
               "cl_waiting_cancel_req": 0, "sv_active": 7, "sv_active_cancel": 0, "sv_being_canceled": 0,
               "sv_idle": 0, "sv_used": 0, "sv_tested": 0, "sv_login": 0, "maxwait": 2, "maxwait_us": 750_000,
               "pool_mode": "transaction", "load_balance_hosts": None}],
}


def test_pgbouncer_1_24_columns_map_to_the_newest_exporter_names():
    out, pools = pgbouncer.samples(PGBOUNCER_1_24)
    got = {s.name: s.value for s in out}

    assert got["pgbouncer_databases_reserve_pool"] == 5.0
    assert got["pgbouncer_stats_totals_server_assignments_total"] == 41.0
    assert got["pgbouncer_stats_totals_client_parses_total"] == 3.0
    assert got["pgbouncer_stats_totals_binds_total"] == 6.0
    assert got["pgbouncer_stats_totals_server_in_transaction_seconds_total"] == 1.5
    assert "pgbouncer_stats_binds_total" not in got  # the older names never had these
    assert got["pgbouncer_pools_client_maxwait_seconds"] == 2.0  # whole seconds, as the exporter
    assert pools == [{"pool": "pgbouncer/shop/app", "in_use": 7.0, "max": 20.0, "waiting": 2.0}]
