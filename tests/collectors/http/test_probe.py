"""Plain probes against the real shop app: status, assertions, redirects, limits, errors."""
from __future__ import annotations

from collectors.http.collector import HttpCollector
from composition.config import parse_config
from tests.collectors.http.helpers import failure, run, target, value
from tests.collectors.http.shop_app import HUGE_BYTES, ServedWaitress, create_app


def test_a_healthy_endpoint_is_a_successful_probe_with_connect_and_total_time(shop):
    b = run(target(url=f"{shop.url}/ok", expect_keyword="Add to cart"))
    assert b.up
    assert value(b, "lookout_http_probe_success", probe="shop") == 1
    assert value(b, "lookout_http_probe_status_code", probe="shop") == 200
    connect = value(b, "lookout_http_probe_duration_seconds", probe="shop", phase="connect")
    total = value(b, "lookout_http_probe_duration_seconds", probe="shop", phase="total")
    assert connect is not None and 0 < connect <= total
    assert value(b, "lookout_http_probe_duration_seconds", probe="shop", phase="tls") is None
    assert value(b, "lookout_http_probe_failure", probe="shop") is None


def test_each_poll_opens_a_fresh_connection_so_connect_time_is_measured_every_time(shop):
    c = HttpCollector(target(url=f"{shop.url}/ok"))
    try:
        for _ in range(3):
            b = c.run()
            assert value(b, "lookout_http_probe_duration_seconds", probe="shop", phase="connect") > 0
    finally:
        c.close()


def test_with_keep_alive_a_reused_connection_reports_no_connect_phase(shop_state):
    server = ServedWaitress(create_app(shop_state))
    c = HttpCollector(target(url=f"{server.url}/ok", keep_alive=True))
    try:
        first, second = c.run(), c.run()
    finally:
        c.close()
        server.stop()
    assert value(first, "lookout_http_probe_duration_seconds", probe="shop", phase="connect") > 0
    assert value(second, "lookout_http_probe_duration_seconds", probe="shop", phase="connect") is None
    assert value(second, "lookout_http_probe_success", probe="shop") == 1


def test_a_missing_keyword_fails_the_probe_but_not_the_target(shop):
    b = run(target(url=f"{shop.url}/ok", expect_keyword="Sold out"))
    assert b.up
    assert value(b, "lookout_http_probe_success", probe="shop") == 0
    assert failure(b, "shop") == ("keyword", "body does not contain 'Sold out'")


def test_a_json_path_assertion_checks_the_value(shop):
    good = run(target(url=f"{shop.url}/api/health", expect_json={"path": "$.checks.database.status", "equals": "up"}))
    bad = run(target(url=f"{shop.url}/api/health", expect_json={"path": "$.checks.redis.status", "equals": "up"}))
    assert value(good, "lookout_http_probe_success", probe="shop") == 1
    assert failure(bad, "shop") == ("json_assertion", "$.checks.redis.status is 'down', expected 'up'")


def test_a_500_is_a_status_failure_with_the_code_reported(shop):
    b = run(target(url=f"{shop.url}/error"))
    assert value(b, "lookout_http_probe_status_code", probe="shop") == 500
    assert failure(b, "shop") == ("status", "status 500, expected 2xx")


def test_an_expected_error_status_passes(shop):
    b = run(target(url=f"{shop.url}/error", expect_status=[500]))
    assert value(b, "lookout_http_probe_success", probe="shop") == 1


def test_garbage_json_is_reported_as_invalid_json(shop):
    b = run(target(url=f"{shop.url}/garbage-json", expect_json={"path": "$.status"}))
    reason, error = failure(b, "shop")
    assert reason == "invalid_json" and error.startswith("body is not valid JSON")


def test_a_slow_endpoint_times_out_within_the_probe_timeout(shop):
    b = run(target(url=f"{shop.url}/slow", timeout=0.5, interval=5.0))
    assert b.up
    assert failure(b, "shop")[0] == "timeout"
    assert value(b, "lookout_http_probe_status_code", probe="shop") == 0


def test_a_refused_connection_is_reported_as_refused(closed_port):
    b = run(target(url=f"http://127.0.0.1:{closed_port}/"))
    assert b.up
    assert failure(b, "shop") == ("refused", "connection refused (nothing listens on that port)")


def test_a_huge_body_is_cut_at_the_cap_without_reading_it_all(shop, shop_state):
    shop_state.huge_sent = 0
    b = run(target(url=f"{shop.url}/huge", max_body_bytes=1_000_000))
    reason, error = failure(b, "shop")
    assert reason == "too_large"
    assert "exceeds max_body_bytes 1000000" in error
    assert value(b, "lookout_http_probe_body_bytes", probe="shop") == 0
    # The server stops when the client closes: far less than the 50 MB was produced.
    assert shop_state.huge_sent < HUGE_BYTES // 4


def test_a_redirect_on_the_same_host_is_followed(shop):
    b = run(target(url=f"{shop.url}/moved", expect_keyword="hello shop"))
    assert value(b, "lookout_http_probe_success", probe="shop") == 1
    assert value(b, "lookout_http_probe_redirects", probe="shop") == 1


def test_a_redirect_is_not_followed_when_the_probe_says_so(shop):
    b = run(target(url=f"{shop.url}/moved", follow_redirects=False, expect_status=[302]))
    assert value(b, "lookout_http_probe_success", probe="shop") == 1
    assert value(b, "lookout_http_probe_status_code", probe="shop") == 302


def test_a_redirect_loop_stops_at_max_redirects(shop):
    b = run(target(url=f"{shop.url}/loop", max_redirects=3))
    reason, error = failure(b, "shop")
    assert reason == "too_many_redirects" and error.startswith("more than 3 redirects")
    assert value(b, "lookout_http_probe_redirects", probe="shop") == 3


def test_a_redirect_to_another_host_is_refused_unless_allowed(shop):
    refused = run(target(url=f"{shop.url}/elsewhere"))
    allowed = run(target(url=f"{shop.url}/elsewhere", allow_cross_host_redirects=True))
    reason, error = failure(refused, "shop")
    assert reason == "cross_host_redirect" and "to another host localhost" in error
    assert value(allowed, "lookout_http_probe_success", probe="shop") == 1


def test_headers_take_secrets_from_the_environment_and_never_show_them(shop):
    cfg = parse_config(f"""
targets:
  - name: shop
    kind: http
    interval: 15s
    url: {shop.url}/ok
    headers: {{Authorization: "Bearer ${{SHOP_TOKEN}}"}}
""", env={"SHOP_TOKEN": "s3cret-token"})
    b = run(cfg.targets[0])
    assert value(b, "lookout_http_probe_success", probe="shop") == 1
    assert "s3cret-token" not in repr(b.documents)


def test_a_password_in_the_url_is_stripped_from_the_document(closed_port):
    b = run(target(url=f"http://user:pa55word@127.0.0.1:{closed_port}/"))
    assert "pa55word" not in repr(b.documents)
    assert b.documents["probes"]["shop"]["url"] == f"http://127.0.0.1:{closed_port}/"
