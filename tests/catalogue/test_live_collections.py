"""Every kind, collected for real, emits only what the catalogue says: name, type and labels.

When a collector gains a metric, this fails with the line to add to its kind's
``collectors/<kind>/catalogue.py``.
"""
from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
import requests

from collectors.catalogue import Catalogue
from collectors.registry import collector_for
from composition.config import parse_config
from core.samples import Sample
from tests.conftest import PG_URL, libpq_dsn


def collect_twice(text: str, between: Callable[[], object] = lambda: None) -> tuple[Catalogue, dict[str, list[Sample]]]:
    """Two polls of every target of the config (ratios and windows need two, and traffic between)."""
    cfg = parse_config(text, env={})
    out: dict[str, list[Sample]] = {}
    for target in cfg.targets:
        coll = collector_for(target)
        try:
            for i in range(2):
                if i:
                    between()
                batch = coll.run()
                assert batch.up, f"{target.name}: {batch.error}"
                out.setdefault(target.kind, []).extend(batch.samples + batch.carried)
        finally:
            coll.close()
    return Catalogue(cfg.targets), out


@pytest.fixture
def busy_db(make_pg_database) -> str:
    dsn = libpq_dsn(make_pg_database("lookout_cat"))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id serial PRIMARY KEY, customer int, status text)")
        conn.execute("INSERT INTO orders (customer, status) SELECT g % 7, "
                     "CASE WHEN g % 5 = 0 THEN 'failed' ELSE 'paid' END FROM generate_series(1, 500) g")
        conn.execute("CREATE INDEX orders_customer ON orders (customer)")
        conn.execute("CREATE INDEX orders_customer_status ON orders (customer, status)")
        conn.execute("CREATE SEQUENCE nearly_done MAXVALUE 10")
        conn.execute("SELECT setval('nearly_done', 9)")
        conn.execute("ANALYZE orders")
    return dsn


def test_postgres_and_sql_emit_only_catalogued_metrics(busy_db, pg18_dsn):
    dbname = psycopg.conninfo.conninfo_to_dict(busy_db)["dbname"]
    sql_url = PG_URL.rsplit("/", 1)[0] + "/" + dbname
    every = "{statements: 15s, tables: 15s, indexes: 15s, sizes: 15s, sequences: 15s}"
    catalogue, samples = collect_twice(f"""
targets:
  - {{name: pg15, kind: postgres, dsn: '{busy_db}', databases: ['{dbname}'],
     intervals: {every}, unused_index_min_bytes: 0, sequence_threshold: 0.5}}
  - {{name: pg18, kind: postgres, dsn: '{pg18_dsn}', intervals: {every}}}
  - name: business
    kind: sql
    url: '{sql_url}'
    queries:
      - name: by_status
        metric: shop_orders_by_status
        help: Orders by status.
        sql: SELECT status, count(*) FROM orders GROUP BY 1
""")
    names = {s.name for s in samples["postgres"]}
    assert {"pg_stat_statements_calls_total", "pg_stat_user_tables_seq_scan", "lookout_pg_duplicate_indexes",
            "lookout_pg_sequence_used_ratio", "pg_settings_max_connections"} <= names
    assert not (problems := catalogue.check(samples["postgres"])), "\n".join(problems)
    assert "shop_orders_by_status" in {s.name for s in samples["sql"]}
    assert not (problems := catalogue.check(samples["sql"])), "\n".join(problems)


def test_redis_emits_only_catalogued_metrics(redis7):
    def traffic() -> None:
        redis7.client.set("k", "v")
        redis7.client.get("k")
        redis7.client.get("missing")

    catalogue, samples = collect_twice(f"targets:\n  - {{name: cache, kind: redis, url: '{redis7.url}'}}\n", traffic)
    assert {"redis_keyspace_hits_total", "redis_commands_total", "lookout_redis_keyspace_hit_ratio"} <= \
        {s.name for s in samples["redis"]}
    assert not (problems := catalogue.check(samples["redis"])), "\n".join(problems)


def test_pool_emits_only_catalogued_metrics(pgbouncer_admin_dsn, app_pool, pg_admin_dsn):
    catalogue, samples = collect_twice(f"""
targets:
  - name: pools
    kind: pool
    pgbouncer: {{dsn: '{pgbouncer_admin_dsn}'}}
    server: {{dsn: '{pg_admin_dsn}'}}
    apps:
      - {{name: api, url: '{app_pool["url"]}', fields: {{in_use: pool.checked_out, idle: pool.idle, max: pool.size}}}}
""")
    assert {"pgbouncer_up", "lookout_pool_utilization_ratio", "lookout_pool_server_connections"} <= \
        {s.name for s in samples["pool"]}
    assert not (problems := catalogue.check(samples["pool"])), "\n".join(problems)


def test_http_emits_only_catalogued_metrics_and_the_scraped_ones_its_config_names(shop):
    def traffic() -> None:
        for path in ("/shop/products", "/shop/checkout", "/shop/products"):
            requests.get(shop.url + path, timeout=5)

    catalogue, samples = collect_twice(f"""
targets:
  - name: api
    kind: http
    base_url: {shop.url}
    probes:
      - name: health
        url: /api/health
        health: {{dependencies: $.checks, latency: latency_ms, latency_unit: ms, overall: $.status}}
      - {{name: product, url: /cache, cache_header: X-Cache}}
      - {{name: metrics, url: /metrics, prometheus: {{allow: [http_]}}}}
      - {{name: broken, url: /error}}
""", traffic)
    names = {s.name for s in samples["http"]}
    assert {"lookout_http_dependency_up", "lookout_http_cache_hit_ratio", "lookout_http_app_error_ratio",
            "http_request_duration_seconds_bucket", "lookout_http_probe_failure"} <= names
    assert not (problems := catalogue.check(samples["http"])), "\n".join(problems)


def test_process_emits_only_catalogued_metrics():
    catalogue, samples = collect_twice("targets:\n  - {name: self, kind: process}\n")
    assert len(samples["process"]) >= 7
    assert not (problems := catalogue.check(samples["process"])), "\n".join(problems)


def test_the_check_names_an_uncatalogued_metric_a_wrong_type_and_an_unknown_label():
    catalogue = Catalogue()
    problems = catalogue.check([Sample("pg_made_up", 1.0), Sample("pg_up", 1.0, kind="counter"),
                                Sample("lookout_pool_utilization_ratio", 0.5, {"pool": "a", "shard": "1"})])
    assert [p.split(":")[0] for p in problems] == ["lookout_pool_utilization_ratio", "pg_made_up", "pg_up"]
    assert "add Metric('pg_made_up', 'gauge'" in problems[1]
    assert "emitted as counter, catalogued as gauge" in problems[2]
    assert "['shard']" in problems[0]
