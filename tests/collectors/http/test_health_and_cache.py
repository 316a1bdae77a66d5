"""Health JSON documents mapped to dependency series; cache headers to a hit ratio."""
from __future__ import annotations

import pytest

from collectors.http.collector import HttpCollector
from tests.collectors.http.helpers import failure, run, target, value


def test_each_dependency_becomes_an_up_series_and_a_latency_series_in_seconds(shop):
    b = run(target(url=f"{shop.url}/api/health",
                   health={"dependencies": "$.checks", "latency": "latency_ms", "latency_unit": "ms",
                           "overall": "$.status"}))
    assert value(b, "lookout_http_dependency_up", probe="shop", dependency="database") == 1
    assert value(b, "lookout_http_dependency_up", probe="shop", dependency="redis") == 0
    assert value(b, "lookout_http_dependency_up", probe="shop", dependency="payments") == 1
    assert value(b, "lookout_http_dependency_latency_seconds", dependency="database") == pytest.approx(0.0125)
    assert value(b, "lookout_http_dependency_latency_seconds", dependency="redis") == pytest.approx(0.25)
    assert value(b, "lookout_http_health_up", probe="shop") == 1
    assert b.documents["probes"]["shop"]["health"]["redis"]["up"] is False


def test_a_list_of_dependencies_is_named_by_its_name_path(shop):
    b = run(target(url=f"{shop.url}/api/health-list",
                   health={"dependencies": "$.checks", "status": "state", "latency": "took.ms",
                           "latency_unit": "ms", "overall": "$.status"}))
    assert value(b, "lookout_http_dependency_up", dependency="db") == 1
    assert value(b, "lookout_http_dependency_up", dependency="mail") == 0
    assert value(b, "lookout_http_dependency_latency_seconds", dependency="mail") == pytest.approx(0.9)
    assert value(b, "lookout_http_health_up", probe="shop") == 0


def test_a_missing_dependencies_path_fails_the_probe_clearly(shop):
    b = run(target(url=f"{shop.url}/api/health", health={"dependencies": "$.deps"}))
    reason, error = failure(b, "shop")
    assert reason == "mapping_miss" and "path '$.deps' matched nothing (no 'deps' at the top)" in error


def test_a_health_document_that_is_not_json_is_invalid_json(shop):
    b = run(target(url=f"{shop.url}/garbage-json", health={}))
    assert failure(b, "shop")[0] == "invalid_json"
    assert value(b, "lookout_http_dependency_up") is None


def test_the_cache_hit_ratio_comes_from_the_hits_and_misses_between_polls(shop, shop_state):
    shop_state.cache_pattern, shop_state.cache_calls = ["HIT", "HIT", "MISS", "HIT"], 0
    probes = [{"name": f"page{i}", "url": f"{shop.url}/cache", "cache_header": "x-cache"} for i in range(4)]
    c = HttpCollector(target(probes=probes))
    try:
        first = c.run()
        shop_state.cache_pattern, shop_state.cache_calls = ["MISS"], 0
        second = c.run()
    finally:
        c.close()
    assert value(first, "lookout_http_cache_hit_ratio") == 0.75
    assert value(second, "lookout_http_cache_hit_ratio") == 0.0  # this poll's lookups only
    assert value(second, "lookout_http_cache_hits_total", probe="page0") == 1
    assert value(second, "lookout_http_cache_misses_total", probe="page0") == 1


def test_no_ratio_is_reported_when_there_were_no_cache_lookups(shop):
    b = run(target(url=f"{shop.url}/ok", cache_header="X-Cache"))
    assert value(b, "lookout_http_cache_hit_ratio") is None
    assert value(b, "lookout_http_cache_hits_total", probe="shop") == 0
    assert b.documents["cache"]["hit_ratio"] is None


def test_a_degraded_health_answering_503_keeps_its_dependency_series_and_its_status_code(shop):
    b = run(target(url=f"{shop.url}/api/health-degraded", expect_status=[200],
                   health={"dependencies": "$.services", "latency": "responseTime", "latency_unit": "ms",
                           "overall": "status"}))
    assert failure(b, "shop") == ("status", "status 503, expected 200")
    assert value(b, "lookout_http_probe_success", probe="shop") == 0
    assert value(b, "lookout_http_probe_status_code", probe="shop") == 503
    assert value(b, "lookout_http_dependency_up", dependency="database") == 1
    assert value(b, "lookout_http_dependency_up", dependency="redis") == 0
    assert value(b, "lookout_http_dependency_latency_seconds", dependency="redis") == pytest.approx(2.0)
    assert value(b, "lookout_http_health_up", probe="shop") == 0


def test_a_health_path_in_either_spelling_maps_the_same_series(shop):
    dollar = run(target(url=f"{shop.url}/api/health-list",
                        health={"dependencies": "$.checks", "status": "$.state", "latency": "$.took.ms",
                                "name": "$.name", "latency_unit": "ms"}))
    plain = run(target(url=f"{shop.url}/api/health-list",
                       health={"dependencies": "checks", "status": "state", "latency": "took.ms",
                               "latency_unit": "ms"}))
    for b in (dollar, plain):
        assert value(b, "lookout_http_probe_success", probe="shop") == 1, b.documents
        assert value(b, "lookout_http_dependency_up", dependency="db") == 1
        assert value(b, "lookout_http_dependency_latency_seconds", dependency="mail") == pytest.approx(0.9)


def test_several_urls_a_poll_give_the_cache_ratio_a_denominator_of_that_many_lookups(shop, shop_state):
    shop_state.cached_products.clear()
    urls = [f"{shop.url}/products/{i}" for i in range(1, 11)]
    c = HttpCollector(target(probes=[{"name": "products", "urls": urls, "cache_header": "X-Cache"}]))
    try:
        first = c.run()               # a cold cache: ten misses
        shop_state.cached_products.difference_update({9, 10})
        second = c.run()              # eight hits, two misses
    finally:
        c.close()
    assert value(first, "lookout_http_cache_hit_ratio") == 0.0
    assert first.documents["probes"]["products"]["cache"] == {"miss": 10}
    assert value(second, "lookout_http_cache_hit_ratio") == 0.8
    assert value(second, "lookout_http_cache_hits_total", probe="products") == 8
    assert value(second, "lookout_http_cache_misses_total", probe="products") == 12
    assert value(second, "lookout_http_probe_success", probe="products") == 1
    assert len(second.documents["probes"]["products"]["requests"]) == 10


def test_a_probe_of_several_urls_fails_when_one_does_and_names_that_url(shop):
    b = run(target(probes=[{"name": "pages", "urls": [f"{shop.url}/ok", f"{shop.url}/error", f"{shop.url}/ok"]}]))
    reason, error = failure(b, "pages")
    assert reason == "status" and error == f"{shop.url}/error: status 500, expected 2xx"
    assert value(b, "lookout_http_probe_status_code", probe="pages") == 500
    assert [r["ok"] for r in b.documents["probes"]["pages"]["requests"]] == [True, False, True]
