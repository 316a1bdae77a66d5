"""One target, every kind of trouble: each probe reports its own cause, the rest are unaffected."""
from __future__ import annotations

from tests.collectors.http.helpers import failure, run, target, value


def test_each_failing_probe_names_its_cause_and_the_healthy_ones_still_pass(shop, tls_shop, closed_port):
    probes = [
        {"name": "home", "url": "/ok", "expect_keyword": "Add to cart"},
        {"name": "slow", "url": "/slow", "timeout": 0.5},
        {"name": "error", "url": "/error"},
        {"name": "garbage", "url": "/garbage-json", "health": {}},
        {"name": "huge", "url": "/huge", "max_body_bytes": 100_000},
        {"name": "loop", "url": "/loop"},
        {"name": "elsewhere", "url": "/elsewhere"},
        {"name": "tls", "url": f"{tls_shop.url}/ok"},
        {"name": "notmetrics", "url": "/not-metrics", "prometheus": {}},
        {"name": "refused", "url": f"http://127.0.0.1:{closed_port}/"},
        {"name": "health", "url": "/api/health", "health": {"latency": "latency_ms", "latency_unit": "ms"}},
        {"name": "metrics", "url": "/metrics", "prometheus": {}},
    ]
    b = run(target(base_url=shop.url, probes=probes))
    assert b.up and b.error is None
    expected = {
        "slow": "timeout", "error": "status", "garbage": "invalid_json", "huge": "too_large",
        "loop": "too_many_redirects", "elsewhere": "cross_host_redirect", "tls": "tls",
        "notmetrics": "not_prometheus", "refused": "refused",
    }
    for name, reason in expected.items():
        assert value(b, "lookout_http_probe_success", probe=name) == 0, name
        assert failure(b, name)[0] == reason, name
        assert failure(b, name)[1], name
        assert value(b, "lookout_http_probe_failure", probe=name, reason=reason) == 1
    for name in ("home", "health", "metrics"):
        assert value(b, "lookout_http_probe_success", probe=name) == 1, failure(b, name)
        assert value(b, "lookout_http_probe_failure", probe=name) is None
    assert value(b, "lookout_http_dependency_up", dependency="database") == 1


def test_probes_that_find_no_time_left_in_the_targets_timeout_are_skipped(shop):
    probes = [{"name": f"slow{i}", "url": "/slow", "timeout": 0.45} for i in range(3)]
    b = run(target(base_url=shop.url, probes=probes, timeout=1.0, interval=5.0))
    assert b.up
    assert failure(b, "slow0")[0] == "timeout"
    assert failure(b, "slow2") == ("skipped", "not run: earlier probes used up the target's timeout")
    assert b.duration < 1.0
