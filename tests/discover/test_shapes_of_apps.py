"""discover against real backends of several shapes: the config it writes passes check-config as
written, and once its collectors run, every rule and promise it proposes has a series."""
from __future__ import annotations

import requests
from flask import Flask

from tests.discover.apps import serve
from tests.discover.helpers import discover_and_collect, missing_claims


def _get(url: str) -> None:
    requests.get(url, timeout=5).close()


def _up(run, target: str) -> None:
    batch = run.last(target)
    assert batch.up, f"{target}: {batch.error}"


def _probe_success(run) -> dict[str, float]:
    return {s.labels["probe"]: s.value for s in run.last("api").samples if s.name == "lookout_http_probe_success"}


def test_the_demo_shop_is_discovered_whole(tmp_path, demo_shop, shop_dsn, redis_url):
    def traffic() -> None:
        for pid in (1, 2, 1, 2):
            _get(f"{demo_shop.url}/api/products/{pid}")
        _get(f"{demo_shop.url}/api/customers/1/report")
        requests.post(f"{demo_shop.url}/api/orders", json={"customer_id": 1}, timeout=5).close()  # a 500

    run = discover_and_collect(tmp_path, traffic, postgres_dsn=shop_dsn, redis_url=redis_url, app_url=demo_shop.url)

    app = run.found.app
    assert app.health.path == "/api/health" and app.health.mapping["dependencies"] == "$.checks"
    assert app.health.mapping["latency"] == "latency_ms" and app.health.mapping["latency_unit"] == "ms"
    assert app.pool.shape == "SQLAlchemy" and app.pool.fields["max"] == "max"
    assert app.metrics.histogram == "http_request_duration_seconds" and app.metrics.counter == "http_requests_total"
    assert app.cache[1] == "X-Cache"
    for target in ("db", "cache", "pool", "api"):
        _up(run, target)
    assert set(_probe_success(run).values()) == {1.0}
    deps = {s.labels["dependency"] for s in run.samples("api") if s.name == "lookout_http_dependency_up"}
    assert deps == {"database", "cache"}
    assert missing_claims(run) == []


def test_a_node_style_app_with_nested_pool_counts_and_a_code_label(tmp_path, node_app, shop_dsn, redis_url):
    def traffic() -> None:
        for pid in (7, 7, 8):
            _get(f"{node_app.url}/shop/catalogue/{pid}")
        _get(f"{node_app.url}/shop/checkout")
        _get(f"{node_app.url}/shop/checkout?fail=1")

    run = discover_and_collect(tmp_path, traffic, postgres_dsn=shop_dsn, redis_url=redis_url, app_url=node_app.url)

    app = run.found.app
    assert app.health.shape == "Node-style {status, services}"
    assert app.health.mapping == {"dependencies": "$.services", "status": "status", "latency": "latencyMs",
                                  "latency_unit": "ms", "overall": "$.status"}
    assert (app.pool.shape, app.pool.fields) == ("node-postgres", {
        "total": "database.totalCount", "idle": "database.idleCount", "waiting": "database.waitingCount",
        "max": "database.max"})
    # the cache route is named only by the application's metrics
    assert app.cache[:2] == ([f"/shop/catalogue/{n}" for n in range(1, 6)], "X-Cache")
    error_rate = next(p for p in run.config.promises.objectives if p.id == "error_rate")
    assert [s.match for s in error_rate.events.bad] == [{"code": "5.."}]
    for target in ("db", "cache", "pool", "api"):
        _up(run, target)
    assert set(_probe_success(run).values()) == {1.0}
    pool = {s.name: s.value for s in run.samples("pool") if s.labels.get("pool") == "app"}
    assert pool["lookout_pool_utilization_ratio"] == 0.1  # (4 - 3) / 10
    assert missing_claims(run) == []


def test_a_spring_actuator_app_with_micrometer_metrics(tmp_path, spring_app, redis_url):
    def traffic() -> None:
        for oid in (1, 1, 2):
            _get(f"{spring_app.url}/api/orders/{oid}")
        _get(f"{spring_app.url}/api/payments/fail")

    run = discover_and_collect(tmp_path, traffic, redis_url=redis_url, app_url=spring_app.url)

    app = run.found.app
    assert app.health.path == "/actuator/health" and app.health.shape == "Spring Boot Actuator"
    assert app.health.mapping == {"dependencies": "$.components", "status": "status", "overall": "$.status"}
    assert app.metrics_path == "/actuator/prometheus"
    assert (app.metrics.histogram, app.metrics.counter) == ("http_server_requests_seconds", None)
    assert (app.metrics.route_label, app.metrics.status_label) == ("uri", "status")
    assert app.pool.metrics_url.endswith("/actuator/prometheus") and app.pool.match_labels == {"pool": "HikariPool-1"}
    assert app.cache == ([f"/api/orders/{n}" for n in range(1, 6)], "CF-Cache-Status", "HIT")
    promises = {p.id: p for p in run.config.promises.objectives}
    assert promises["p95_latency"].threshold.metric.metric == "http_server_requests_seconds_bucket"
    assert [s.metric for s in promises["error_rate"].events.total] == ["http_server_requests_seconds_count"]
    assert not promises["query_mean"].enabled  # no PostgreSQL given
    for target in ("cache", "pool", "api"):
        _up(run, target)
    assert set(_probe_success(run).values()) == {1.0}
    deps = {s.labels["dependency"]: s.value for s in run.samples("api") if s.name == "lookout_http_dependency_up"}
    assert deps == {"db": 1.0, "diskSpace": 1.0, "redis": 1.0}
    routes = {s.labels["route"] for s in run.samples("api") if s.name == "lookout_http_app_request_duration_seconds"}
    assert "/api/orders/{oid}" in routes
    assert missing_claims(run) == []


def test_an_app_with_hikari_pool_json_and_ietf_health(tmp_path, hikari_app, shop_dsn):
    def traffic() -> None:
        for iid in (3, 3, 4):
            _get(f"{hikari_app.url}/api/items/{iid}")
        _get(f"{hikari_app.url}/api/items/broken")

    run = discover_and_collect(tmp_path, traffic, postgres_dsn=shop_dsn, app_url=hikari_app.url)

    app = run.found.app
    assert app.health.shape == "IETF health+json draft"
    assert app.health.mapping["status"] == "$[0].status" and app.health.mapping["latency_unit"] == "ms"
    assert (app.pool.shape, app.pool.fields) == ("HikariCP", {
        "in_use": "pool.activeConnections", "idle": "pool.idleConnections", "total": "pool.totalConnections",
        "waiting": "pool.threadsAwaitingConnection", "max": "pool.maxPoolSize"})
    assert app.metrics.route_label == "handler"
    assert app.cache[:2] == ([f"/api/items/{n}" for n in range(1, 6)], "X-Cache-Status")
    assert not {p.id: p for p in run.config.promises.objectives}["cache_hit_rate"].enabled  # no Redis given
    for target in ("db", "pool", "api"):
        _up(run, target)
    assert set(_probe_success(run).values()) == {1.0}
    latency = {s.labels["dependency"]: s.value for s in run.samples("api")
               if s.name == "lookout_http_dependency_latency_seconds"}
    assert latency == {"postgres:responseTime": 0.0025, "redis:responseTime": 0.0007}
    pool = {s.name: s.value for s in run.samples("pool") if s.labels.get("pool") == "app"}
    assert pool["lookout_pool_utilization_ratio"] == 3 / 20
    assert missing_claims(run) == []


def test_a_checks_array_is_mapped_by_name_and_status(tmp_path, checks_app):
    run = discover_and_collect(tmp_path, app_url=checks_app.url)

    assert run.found.app.health.mapping == {"dependencies": "$.checks", "name": "name", "status": "status",
                                            "latency": "duration_ms", "latency_unit": "ms", "overall": "$.status"}
    deps = {s.labels["dependency"]: s.value for s in run.samples("api") if s.name == "lookout_http_dependency_up"}
    assert deps == {"db": 1.0, "queue": 1.0}
    assert [t.kind for t in run.config.targets] == ["process", "http"]
    assert missing_claims(run) == []


def test_an_app_with_nothing_recognisable_is_still_watched_and_each_miss_is_said(tmp_path):
    served = serve(Flask("bare"))  # every path answers 404
    try:
        run = discover_and_collect(tmp_path, app_url=served.url)
    finally:
        served.stop()

    missing = [text for part, ok, text in run.found.notes.lines if part == "app" and not ok]
    assert [m.split(" (")[0].split(" on ")[0] for m in missing] == [
        "no health endpoint answered 2xx or 503", "no Prometheus metrics", "no pool document",
        "no X-Cache, X-Cache-Status or CF-Cache-Status header"]
    assert "/api/health 404" in missing[0] and "/actuator/prometheus 404" in missing[1]
    probe = run.config.target("api").probes[0]
    assert (probe.name, probe.url) == ("home", "/")
    assert _probe_success(run) == {"home": 1.0}
    assert {p.id for p in run.config.promises.objectives if p.enabled} == {"uptime"}
    assert missing_claims(run) == []
