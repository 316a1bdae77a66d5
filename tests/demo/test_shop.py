"""The demo's pieces without the whole app: the embedded servers and the shop in front of them."""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from demo.embedded import EmbeddedPostgres, EmbeddedRedis, port_open
from demo.shop import schema
from demo.shop.app import MAX_OVERFLOW, POOL_SIZE, create_shop
from demo.shop.scenarios import Scenarios
from tests.support import free_port


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[EmbeddedPostgres, EmbeddedRedis]]:
    # Not under pytest's tmp_path: as root PostgreSQL runs as another user and needs the
    # parents traversable, and every pytest session resets pytest-of-root/ to 0700.
    data = Path(tempfile.mkdtemp(prefix="lookout-demo-test-"))
    pg, rd = EmbeddedPostgres(data / "postgres", free_port()), EmbeddedRedis(data / "redis", free_port())
    pg.start()
    try:
        rd.start()
        yield pg, rd
    finally:
        rd.stop()
        pg.stop()
        shutil.rmtree(data, ignore_errors=True)
    assert not port_open(pg.port) and not port_open(rd.port)


@pytest.fixture(scope="module")
def shop(servers) -> Iterator:
    pg, rd = servers
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute('CREATE DATABASE "shop"')
    url = pg.dsn("shop").replace("postgresql://", "postgresql+psycopg://")
    engine = create_engine(url)
    schema.create(engine, products=20, customers=10)
    engine.dispose()
    scenarios = Scenarios()
    app = create_shop(url, rd.url(), scenarios, seed=1)
    app.extensions["scenarios"] = scenarios
    yield app
    app.extensions["shop_engine"].dispose()


def test_the_embedded_postgres_has_pg_stat_statements_loaded(servers, shop):
    pg, _ = servers
    with psycopg.connect(pg.dsn("shop")) as conn:
        assert conn.execute("SHOW shared_preload_libraries").fetchone()[0] == "pg_stat_statements"
        assert conn.execute("SELECT count(*) >= 0 FROM pg_stat_statements").fetchone()[0]


def test_a_product_read_misses_the_cache_once_then_hits(shop):
    client = shop.test_client()
    first, second = client.get("/api/products/3"), client.get("/api/products/3")
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
    assert first.get_json() == second.get_json() and first.get_json()["id"] == 3


def test_the_pool_endpoint_reports_the_fields_the_pool_target_maps(shop):
    body = shop.test_client().get("/api/pool").get_json()
    assert set(body) >= {"checked_out", "idle", "size", "waiting", "max"}
    assert body["max"] == POOL_SIZE + MAX_OVERFLOW and body["waiting"] == 0


def test_health_reports_each_dependency_with_status_and_latency(shop):
    res = shop.test_client().get("/api/health")
    body = res.get_json()
    assert res.status_code == 200 and body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache"}
    assert all(c["status"] == "up" and c["latency_ms"] >= 0 for c in body["checks"].values())


def test_an_order_is_paid_or_fails_and_is_counted_in_the_latency_histogram(shop):
    client = shop.test_client()
    res = client.post("/api/orders", json={"customer_id": 1, "items": [{"product_id": 2, "quantity": 2}]})
    assert res.status_code in (201, 402) and res.get_json()["total_cents"] > 0
    families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))}
    buckets = [s for s in families["http_request_duration_seconds"].samples
               if s.name.endswith("_bucket") and s.labels["route"] == "/api/orders"]
    assert buckets and max(s.value for s in buckets) >= 1


def test_the_payment_outage_scenario_makes_most_payments_fail(shop):
    client, scenarios = shop.test_client(), shop.extensions["scenarios"]
    scenarios.set("payment_outage", True)
    try:
        codes = [client.post("/api/orders", json={"customer_id": 2, "items": [{"product_id": 1, "quantity": 1}]})
                 .status_code for _ in range(20)]
    finally:
        scenarios.set("payment_outage", False)
    assert codes.count(402) >= 6  # 60 % fail: fewer than 6 of 20 has a chance below 0.1 %
