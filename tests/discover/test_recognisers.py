"""The pure recognisers: documents and texts in, the config that reads them (or nothing) out."""
from __future__ import annotations

from discover.prom import example_path, read_metrics
from discover.shapes import cache_header, health_map, pool_fields


def test_a_document_with_a_status_only_has_no_dependency_mapping():
    assert health_map({"status": "ok"}) is None
    assert health_map(["ok"]) is None


def test_node_style_bare_statuses_are_mapped_without_a_status_path_of_their_own():
    mapping, shape = health_map({"status": "ok", "services": {"database": "ok", "redis": "down"}})
    assert shape == "Node-style {status, services}"
    assert mapping == {"dependencies": "$.services", "status": "status", "overall": "$.status"}


def test_entries_without_a_common_status_key_are_not_a_health_document():
    assert health_map({"status": "ok", "checks": {"db": {"latency": 3}, "cache": {"latency": 1}}}) is None


def test_spring_boot_2_0_details_are_recognised():
    mapping, shape = health_map({"status": "DOWN", "details": {"db": {"status": "DOWN"}}})
    assert (mapping["dependencies"], shape) == ("$.details", "Spring Boot Actuator")


def test_a_timing_without_a_unit_is_left_out():
    mapping, _ = health_map({"checks": {"db": {"status": "up", "latency": 3}}})
    assert "latency" not in mapping


def test_a_bare_size_is_not_a_pool_but_a_sqlalchemy_status_is():
    assert pool_fields({"size": 12, "items": 3}) is None
    fields, shape = pool_fields({"db": {"size": 5, "checkedin": 4, "checkedout": 1, "overflow": 0}})
    assert shape == "SQLAlchemy"
    assert fields == {"in_use": "db.checkedout", "idle": "db.checkedin", "max": "db.size"}


def test_cache_headers_are_found_whatever_their_case():
    assert cache_header({"cf-cache-status": "MISS"}) == ("CF-Cache-Status", "MISS")
    assert cache_header({"X-Cache": "Hit from cloudfront"}) == ("X-Cache", "Hit from cloudfront")
    assert cache_header({"Cache-Control": "no-store"}) is None


def test_route_templates_become_paths_to_read():
    assert example_path("/api/products/<int:pid>") == "/api/products/1"
    assert example_path("/api/orders/{id}/items") == "/api/orders/1/items"
    assert example_path("/users/:userId") == "/users/1"


def test_metrics_text_names_the_histogram_the_counter_and_their_labels():
    text = """# TYPE http_request_duration_ms histogram
http_request_duration_ms_bucket{le="+Inf",path="/a"} 1
http_request_duration_ms_count{path="/a"} 1
http_request_duration_ms_sum{path="/a"} 1
# TYPE http_requests_total counter
http_requests_total{path="/a",status_code="200",method="GET"} 1
# TYPE app_jobs_total counter
app_jobs_total 3
"""
    m = read_metrics(text)
    assert (m.histogram, m.counter, m.route_label, m.status_label) == (
        "http_request_duration_ms", "http_requests_total", "path", "status_code")
    assert m.notes == ["histogram http_request_duration_ms does not say it is in seconds; Lookout reads its "
                       "buckets as seconds"]
    assert m.get_routes == ["/a"]
