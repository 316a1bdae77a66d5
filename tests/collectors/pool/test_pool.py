"""The pool collector against a real PgBouncer, a real SQLAlchemy pool and PostgreSQL 15."""
from __future__ import annotations

import logging
import threading

import psycopg

from collectors.pool import PoolCollector, PoolTarget, derived


def make(**kw) -> PoolCollector:
    return PoolCollector(PoolTarget(name="pools", kind="pool", interval=15, timeout=10, **kw))


def values(batch, metric, **labels):
    return [s.value for s in batch.samples if s.name == metric and all(s.labels.get(k) == v for k, v in labels.items())]


def test_pgbouncer_pools_stats_and_databases_use_pgbouncer_exporter_names(pgbouncer_admin_dsn):
    client = pgbouncer_admin_dsn.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(client, prepare_threshold=None, autocommit=True) as conn:
        for _ in range(5):
            conn.execute("SELECT 1")
    batch = make(pgbouncer={"dsn": pgbouncer_admin_dsn}).run()
    assert batch.up, batch.error
    assert values(batch, "pgbouncer_up") == [1.0]
    assert values(batch, "pgbouncer_stats_queries_pooled_total", database="postgres")[0] >= 5
    assert values(batch, "pgbouncer_pools_client_waiting_connections", database="postgres", user="postgres") == [0.0]
    assert values(batch, "pgbouncer_pools_server_idle_connections", database="postgres", user="postgres")
    assert values(batch, "pgbouncer_databases_pool_size", name="pgbouncer")


def test_clients_waiting_for_a_full_pgbouncer_pool_are_seen(pgbouncer_admin_dsn):
    client = pgbouncer_admin_dsn.rsplit("/", 1)[0] + "/postgres"
    holders = [psycopg.connect(client, prepare_threshold=None) for _ in range(3)]  # default_pool_size = 3
    for h in holders:
        h.execute("SELECT 1")  # each holds a server connection in an open transaction
    waiter = psycopg.connect(client, prepare_threshold=None, autocommit=True)
    t = threading.Thread(target=lambda: waiter.execute("SELECT 1"), daemon=True)
    t.start()
    try:
        for _ in range(50):
            batch = make(pgbouncer={"dsn": pgbouncer_admin_dsn}).run()
            if values(batch, "lookout_pool_waiting_clients", pool="pgbouncer/postgres/postgres") == [1.0]:
                break
            t.join(0.1)
        assert values(batch, "lookout_pool_waiting_clients", pool="pgbouncer/postgres/postgres") == [1.0]
        assert values(batch, "lookout_pool_utilization_ratio", pool="pgbouncer/postgres/postgres") == [1.0]
    finally:
        for h in holders:
            h.rollback()
            h.close()
        t.join(5)
        waiter.close()


def test_the_application_pool_json_gives_utilisation_of_a_real_sqlalchemy_pool(app_pool):
    held = [app_pool["engine"].connect() for _ in range(3)]
    try:
        batch = make(apps=[{"name": "shop", "url": app_pool["url"], "processes": 2,
                            "fields": {"in_use": "pool.checked_out", "idle": "pool.idle", "max": "pool.size",
                                       "waiting": "waiting"}}], max_connections=100).run()
    finally:
        for c in held:
            c.close()
    assert batch.up, batch.error
    assert values(batch, "lookout_pool_utilization_ratio", pool="shop") == [0.75]
    assert values(batch, "lookout_pool_waiting_clients", pool="shop") == [0.0]
    assert values(batch, "lookout_pool_connection_budget_ratio") == [0.08]  # 4 x 2 / 100


def test_the_application_prometheus_metrics_are_parsed_by_label(app_pool):
    with app_pool["engine"].connect():
        batch = make(apps=[{"name": "shop", "metrics_url": app_pool["metrics_url"], "match_labels": {"state": "in_use"},
                            "fields": {"in_use": "db_pool_connections", "max": "db_pool_max"}}]).run()
    assert values(batch, "lookout_pool_in_use_connections", pool="shop") == [1.0]
    assert values(batch, "lookout_pool_utilization_ratio", pool="shop") == [0.25]


def test_the_server_side_counts_connections_per_application_against_max_connections(pg_admin_dsn):
    with psycopg.connect(pg_admin_dsn, application_name="shop-api"):
        batch = make(server={"dsn": pg_admin_dsn}, apps=[], max_connections=None).run()
    assert values(batch, "lookout_pool_server_connections", application_name="shop-api")[0] >= 1
    assert values(batch, "lookout_pool_server_max_connections")[0] >= 10
    assert 0 < values(batch, "lookout_pool_server_utilization_ratio")[0] < 1


def test_an_unreachable_pgbouncer_is_reported_without_hiding_the_other_sources(pg_admin_dsn):
    batch = make(pgbouncer={"dsn": "postgresql://postgres:hunter2@127.0.0.1:1/pgbouncer"},
                 server={"dsn": pg_admin_dsn}).run()
    assert batch.up
    assert values(batch, "pgbouncer_up") == [0.0]
    assert "hunter2" not in batch.documents["pool_errors"]["pgbouncer"]
    assert values(batch, "lookout_pool_source_up", source="server") == [1.0]


def test_the_budget_uses_configured_pool_sizes_times_processes():
    from collectors.pool import AppPool
    apps = [AppPool(name="api", url="http://x/", fields={"max": "m"}, processes=4, pool_size=20),
            AppPool(name="worker", url="http://y/", fields={"max": "m"}, processes=2)]
    out = {s.name: s.value for s in derived([{"pool": "worker", "max": 10.0}], apps, 100.0)}
    assert out["lookout_pool_connection_budget_connections"] == 100.0
    assert out["lookout_pool_connection_budget_ratio"] == 1.0


def test_pool_fields_read_the_same_in_dollar_and_plain_paths(app_pool):
    with app_pool["engine"].connect():
        dollar = make(apps=[{"name": "shop", "url": app_pool["url"],
                             "fields": {"in_use": "$.pool.checked_out", "max": "$['pool']['size']"}}]).run()
        plain = make(apps=[{"name": "shop", "url": app_pool["url"],
                            "fields": {"in_use": "pool.checked_out", "max": "pool.size"}}]).run()
    for batch in (dollar, plain):
        assert values(batch, "lookout_pool_utilization_ratio", pool="shop") == [0.25]
        assert batch.documents["probes"]["app:shop"] == {"ok": True, "reason": None, "error": None}


def test_a_pool_field_that_matches_nothing_is_the_targets_error_counted_and_logged_once(app_pool, caplog):
    caplog.set_level(logging.INFO, logger="lookout.collectors.pool")
    c = make(apps=[{"name": "shop", "url": app_pool["url"],
                    "fields": {"in_use": "$.pool.checked_out", "max": "$.database.max"}}])
    try:
        c.run()
        batch = c.run()
    finally:
        c.close()
    assert batch.up
    assert values(batch, "lookout_pool_source_up", source="app:shop") == [1.0]
    assert values(batch, "lookout_pool_in_use_connections", pool="shop") == [0.0]
    assert values(batch, "lookout_pool_utilization_ratio", pool="shop") == []
    assert batch.documents["probes"]["app:shop"] == {
        "ok": False, "reason": "mapping_miss", "error": "path '$.database.max' matched nothing"}
    assert values(batch, "lookout_mapping_misses_total", probe="shop", path="$.database.max") == [2.0]
    assert values(batch, "lookout_mapping_misses_total", probe="shop", path="$.pool.checked_out") == [0.0]
    logged = [r for r in caplog.records if "'$.database.max' matched nothing" in r.getMessage()]
    assert len(logged) == 1


def test_a_metric_name_no_sample_matches_is_a_mapping_miss_too(app_pool):
    batch = make(apps=[{"name": "shop", "metrics_url": app_pool["metrics_url"],
                        "fields": {"in_use": "db_pool_connections", "max": "db_pool_maximum"}}]).run()
    assert batch.documents["probes"]["app:shop"]["error"] == "metric 'db_pool_maximum' matched nothing"
    assert values(batch, "lookout_mapping_misses_total", probe="shop", path="db_pool_maximum") == [1.0]


def test_a_pool_source_that_is_down_shows_in_the_probes_document(pg_admin_dsn):
    batch = make(pgbouncer={"dsn": "postgresql://postgres@127.0.0.1:1/pgbouncer"}, server={"dsn": pg_admin_dsn}).run()
    doc = batch.documents["probes"]
    assert doc["pgbouncer"]["ok"] is False and doc["pgbouncer"]["reason"] == "down"
    assert doc["server"]["ok"] is True
