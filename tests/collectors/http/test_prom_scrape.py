"""An application's /metrics: re-export, series cap, and request stats per route."""
from __future__ import annotations

import dataclasses
import shutil
import subprocess

import pytest
import requests

from collectors.http.collector import HttpCollector
from collectors.http.config import PromScrape
from collectors.http.prom_scrape import PromScraper
from core.samples import Sample
from exporter.snapshot import Snapshot
from tests.collectors.http.helpers import failure, run, target, value


def _shop_traffic(url: str, fast: int, slow: int, ok: int, failed: int) -> None:
    with requests.Session() as s:
        for _ in range(fast):
            s.get(f"{url}/shop/products?ms=20").raise_for_status()
        for _ in range(slow):
            s.get(f"{url}/shop/products?ms=250").raise_for_status()
        for _ in range(ok):
            s.get(f"{url}/shop/checkout").raise_for_status()
        for _ in range(failed):
            assert s.get(f"{url}/shop/checkout?fail=1").status_code == 500


def test_latency_quantiles_rate_and_error_ratio_come_from_the_window_between_polls(shop):
    c = HttpCollector(target(probes=[{"name": "metrics", "url": f"{shop.url}/metrics", "prometheus": {}}]))
    try:
        _shop_traffic(shop.url, fast=0, slow=5, ok=0, failed=3)   # before the window: must not count
        first = c.run()
        _shop_traffic(shop.url, fast=18, slow=2, ok=3, failed=1)
        second = c.run()
    finally:
        c.close()
    assert value(first, "lookout_http_app_request_duration_seconds") is None  # baseline only
    q = {s.labels["quantile"]: s.value for s in second.samples
         if s.name == "lookout_http_app_request_duration_seconds" and s.labels["route"] == "/shop/products"}
    # Buckets 0.01 0.1 0.2 0.4 0.8 +Inf; 18 requests in (0.01, 0.1], 2 in (0.2, 0.4].
    assert q["0.5"] == pytest.approx(0.01 + 0.09 * 10 / 18)
    assert q["0.95"] == pytest.approx(0.2 + 0.2 * 1 / 2)
    assert q["0.99"] == pytest.approx(0.2 + 0.2 * 1.8 / 2)
    assert value(second, "lookout_http_app_error_ratio", route="/shop/checkout") == 0.25
    assert value(second, "lookout_http_app_error_ratio", route="/shop/products") == 0.0
    # All routes together: 1 failure in 24 requests, not the mean of the routes' ratios (0.125).
    assert value(second, "lookout_http_app_error_ratio", route="*") == pytest.approx(1 / 24)
    assert value(second, "lookout_http_app_requests_per_second", route="/shop/products") > 0
    assert second.documents["probes"]["metrics"]["metrics"]["routes"]["/shop/checkout"]["error_ratio"] == 0.25


def test_scraped_samples_are_re_exported_with_their_kind_and_help(shop):
    b = run(target(probes=[{"name": "metrics", "url": f"{shop.url}/metrics",
                            "prometheus": {"allow": ["http_requests"]}}]))
    exported = [s for s in b.samples if s.name == "http_requests_total"]
    assert exported and all(s.kind == "counter" and s.help == "Requests." for s in exported)
    assert not [s for s in b.samples if s.name.startswith("http_request_duration")]
    assert not [s for s in b.samples if s.name.endswith("_created")]


def test_series_over_the_cap_are_dropped_and_reported(shop):
    b = run(target(probes=[{"name": "m", "url": f"{shop.url}/many-metrics", "prometheus": {"max_series": 10}}]))
    assert len([s for s in b.samples if s.name == "shop_item_views_total"]) == 10
    assert value(b, "lookout_http_scrape_series", probe="m") == 50
    assert value(b, "lookout_http_scrape_series_dropped", probe="m") == 40
    assert b.documents["probes"]["m"]["metrics"]["warning"] == "50 series exceed max_series 10; 40 dropped"
    assert value(b, "lookout_http_probe_success", probe="m") == 1


def test_text_that_is_not_prometheus_fails_the_probe_clearly(shop):
    b = run(target(probes=[{"name": "m", "url": f"{shop.url}/not-metrics", "prometheus": {}}]))
    reason, error = failure(b, "m")
    assert reason == "not_prometheus"
    assert error.startswith("not Prometheus text exposition (Content-Type text/html")


def _hist(counts: list[int]) -> bytes:
    lines = ["# TYPE http_request_duration_seconds histogram"]
    for le, n in zip(["0.1", "1.0", "+Inf"], counts, strict=True):
        lines.append(f'http_request_duration_seconds_bucket{{route="/a",le="{le}"}} {n}')
    return ("\n".join(lines) + "\n").encode()


def _p50(samples: list[Sample]) -> float:
    return next(s.value for s in samples if s.labels.get("quantile") == "0.5")


def test_after_an_app_restart_the_window_counts_from_zero_instead_of_going_negative():
    scraper = PromScraper("m", PromScrape(quantiles=[0.5]), set())
    scraper.scrape(_hist([100, 200, 200]), "", now=0.0)
    samples, _ = scraper.scrape(_hist([110, 300, 300]), "", now=15.0)   # +10 fast, +90 slow
    assert _p50(samples) == pytest.approx(0.1 + 0.9 * (50 - 10) / 90)
    samples, _ = scraper.scrape(_hist([4, 4, 4]), "", now=30.0)         # restarted: 4 fast since
    assert _p50(samples) == pytest.approx(0.1 * 2 / 4)


def _hist_two_routes(a: list[int], b: list[int], sums: tuple[float, float]) -> bytes:
    lines = ["# TYPE http_request_duration_seconds histogram"]
    for route, counts, total in (("/a", a, sums[0]), ("/b", b, sums[1])):
        for le, n in zip(["0.1", "1.0", "+Inf"], counts, strict=True):
            lines.append(f'http_request_duration_seconds_bucket{{route="{route}",le="{le}"}} {n}')
        lines.append(f'http_request_duration_seconds_sum{{route="{route}"}} {total}')
        lines.append(f'http_request_duration_seconds_count{{route="{route}"}} {counts[-1]}')
    return ("\n".join(lines) + "\n").encode()


def test_request_duration_is_a_summary_of_window_quantiles_and_the_histograms_sum_and_count():
    scraper = PromScraper("m", PromScrape(quantiles=[0.5, 0.9]), set())
    scraper.scrape(_hist_two_routes([10, 10, 10], [0, 0, 0], (0.5, 0.0)), "", now=0.0)
    samples, _ = scraper.scrape(_hist_two_routes([20, 30, 30], [4, 4, 4], (4.0, 0.2)), "", now=15.0)
    summary = [s for s in samples if s.name.startswith("lookout_http_app_request_duration_seconds")]
    assert summary and all(s.kind == "summary" for s in summary)
    quantiles = {(s.labels["route"], s.labels["quantile"]): s.value for s in summary if "quantile" in s.labels}
    # Window /a: +10 under 0.1 s, +10 in (0.1, 1]; /b: 4 under 0.1 s; all: 14 and 10.
    assert quantiles[("/a", "0.5")] == pytest.approx(0.1)
    assert quantiles[("/b", "0.9")] == pytest.approx(0.1 * 0.9)
    assert quantiles[("*", "0.5")] == pytest.approx(0.1 * 12 / 14)
    totals = {(s.name.rsplit("_", 1)[1], s.labels["route"]): s.value for s in summary if "quantile" not in s.labels}
    assert totals == {("sum", "/a"): 4.0, ("count", "/a"): 30, ("sum", "/b"): 0.2, ("count", "/b"): 4,
                      ("sum", "*"): 4.2, ("count", "*"): 34}
    assert all(set(s.labels) == {"probe", "route"} for s in summary if "quantile" not in s.labels)


def test_the_latency_summary_and_the_misses_counter_pass_promtool(shop):
    promtool = shutil.which("promtool")
    assert promtool, "promtool is not installed (apt-get install prometheus)"
    c = HttpCollector(target(probes=[
        {"name": "metrics", "url": f"{shop.url}/metrics", "prometheus": {"export": False}},
        {"name": "health", "url": f"{shop.url}/api/health", "health": {"latency": "took"}}]))
    try:
        c.run()
        _shop_traffic(shop.url, fast=3, slow=1, ok=2, failed=1)
        b = c.run()
    finally:
        c.close()
    snap = Snapshot(process=False)
    snap.update("shop", [dataclasses.replace(s, labels={**s.labels, "target": "shop"}) for s in b.samples])
    body = snap.body()
    assert b"# TYPE lookout_http_app_request_duration_seconds summary" in body
    assert b'lookout_http_app_request_duration_seconds_count{probe="metrics",route="*",target="shop"}' in body
    assert b'lookout_mapping_misses_total{probe="health",path="took",target="shop"} 2' in body  # two polls
    checked = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, timeout=30)
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, b"", b"")
