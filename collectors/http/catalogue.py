"""The metrics of ``kind: http``: per probe, with a cache header, a health mapping, and a
Prometheus scrape; and, from a target's config, the application's series a scrape re-exports."""
from __future__ import annotations

from typing import Any

from collectors.catalogue import Metric
from collectors.http.prom_scrape import PromScraper
from collectors.jsonpath import MISSES_METRIC
from core.units import unit_for_metric

_P = ("probe",)


def _m(name: str, type_: str, family: str, labels: tuple[str, ...], help_: str) -> Metric:
    return Metric(name, type_, help_, "http", family, labels)


METRICS: list[Metric] = [
    _m("lookout_http_probe_success", "gauge", "probe", _P,
       "1 if the probe got an expected response and passed its checks, else 0."),
    _m("lookout_http_probe_status_code", "gauge", "probe", _P,
       "HTTP status of the final response; 0 when there was none."),
    _m("lookout_http_probe_redirects", "gauge", "probe", _P, "Redirects followed by the probe."),
    _m("lookout_http_probe_body_bytes", "gauge", "probe", _P, "Bytes of (decoded) body read from the final response."),
    _m("lookout_http_probe_duration_seconds", "gauge", "probe", ("probe", "phase"),
       "Probe time by phase: connect (TCP), tls (handshake), total (all hops and the body)."),
    _m("lookout_http_probe_tls_cert_remaining_seconds", "gauge", "probe", _P,
       "Seconds until the server certificate's notAfter (negative: expired)."),
    _m("lookout_http_probe_failure", "gauge", "probe", ("probe", "reason"),
       "1 for the reason the probe failed (timeout, refused, tls, status, ...)."),
    _m("lookout_http_cache_hits_total", "counter", "cache_header", _P,
       "Responses whose cache header said HIT, since Lookout started."),
    _m("lookout_http_cache_misses_total", "counter", "cache_header", _P,
       "Responses whose cache header said MISS, since Lookout started."),
    _m("lookout_http_cache_hit_ratio", "gauge", "cache_header", (),
       "Cache hits over lookups seen by this target's probes since the previous poll."),
    _m("lookout_http_health_up", "gauge", "health", _P,
       "1 if the health document's overall status is one of up_values."),
    _m("lookout_http_dependency_up", "gauge", "health", ("probe", "dependency"),
       "1 if the dependency reports an up status in the health document, else 0."),
    _m("lookout_http_dependency_latency_seconds", "gauge", "health", ("probe", "dependency"),
       "Timing the health document reports for the dependency."),
    _m("lookout_http_scrape_series", "gauge", "prometheus", _P,
       "Series in the scraped /metrics after the allow/deny filters."),
    _m("lookout_http_scrape_series_dropped", "gauge", "prometheus", _P,
       "Series not re-exported because max_series was exceeded."),
    _m("lookout_http_app_request_duration_seconds", "summary", "prometheus", ("probe", "route", "quantile"),
       "Application request latency quantile per route over the window between polls (histogram_quantile on "
       "bucket deltas; route=\"*\": all routes)."),
    _m("lookout_http_app_requests_per_second", "gauge", "prometheus", ("probe", "route"),
       "Requests per second the application counted, over the window between polls."),
    _m("lookout_http_app_error_ratio", "gauge", "prometheus", ("probe", "route"),
       "Share of the application's requests answered 5xx, over the window between polls."),
    _m(MISSES_METRIC, "counter", "mapping", ("probe", "path"),
       "Answers in which a configured JSON path (or a metric name) matched nothing."),
]


def from_target(target: Any) -> list[Metric]:
    """The application series each `prometheus:` probe re-exports (after its allow filters)."""
    out: list[Metric] = []
    for probe in target.probes:
        cfg = probe.prometheus
        if cfg is None or not cfg.export:
            continue
        origin = f"target {target.name}, probe {probe.name}"
        scraper = PromScraper(probe.name, cfg, set())
        counter = cfg.counter if cfg.counter.endswith("_total") else cfg.counter + "_total"
        hist_unit = unit_for_metric(cfg.histogram)
        for fam, name, type_, unit, help_ in [
            (cfg.histogram, cfg.histogram + "_bucket", "histogram", "count", "The application's request-duration "
             "histogram buckets (le), re-exported."),
            (cfg.histogram, cfg.histogram + "_sum", "histogram", hist_unit, "The application's request-duration "
             "histogram sum, re-exported."),
            (cfg.histogram, cfg.histogram + "_count", "histogram", "count", "The application's request-duration "
             "histogram count, re-exported."),
            (counter.removesuffix("_total"), counter, "counter", "count", "The application's request counter, "
             "re-exported."),
        ]:
            if scraper.wanted(fam, name):
                out.append(Metric(cfg.prefix + name, type_, help_, "http", "scraped", interval=target.interval,
                                  unit=unit, open_labels=True, origin=origin))
        # Everything else the application exposes that passes the filters.
        heads = cfg.allow if cfg.allow and not cfg.allow_regex else [""]
        for head in heads:
            out.append(Metric(f"{cfg.prefix}{head}<name>", "scraped", "Scraped from the application, re-exported "
                              "under its own name.", "http", "scraped", interval=target.interval,
                              open_labels=True, origin=origin))
    return out
