"""An application's Prometheus ``/metrics``: re-export, and request stats per route.

The text is parsed with ``prometheus_client.parser``. Samples that pass the
allow/deny filters are re-exported under their own names (``prefix`` may
be prepended; a ``target`` label of the app becomes ``exported_target``, as
Prometheus does), at most ``max_series`` of them.

From the request-duration histogram and the request counter, per route and
over the window between two polls (the first poll only sets the baseline):

- ``lookout_http_app_request_duration_seconds{probe,route}``: a summary, as a
  client library's summary with a max age would expose it: the quantile
  samples are histogram_quantile on the bucket deltas of the window, ``_sum``
  and ``_count`` the histogram's cumulative sum and count (``route="*"``: all
  routes together);
- ``lookout_http_app_requests_per_second{probe,route}``;
- ``lookout_http_app_error_ratio{probe,route}``: requests whose status is one
  of the target's ``error_status`` (default 5xx) over all; absent when the
  window saw no request.

Requests per second and the error ratio have a ``route="*"`` series too
(every route's requests together, not a mean of per-route ratios), as the
quantiles do, when the application reports more than one route.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from collectors.http.config import PromScrape, status_matches
from collectors.http.probe import Fail
from collectors.http.quantiles import bucket_quantile, deltas
from core.samples import Sample

_COUNTER_TYPES = {"counter", "histogram", "summary", "gaugehistogram"}
_ALL = "*"
_DURATION = "lookout_http_app_request_duration_seconds"
_DURATION_HELP = ("Application request latency per route: quantiles over the window between polls "
                  "(histogram_quantile on bucket deltas), sum and count since the application started.")


class PromScraper:
    """Keeps the previous poll's bucket and request counters of one probe."""

    def __init__(self, probe: str, cfg: PromScrape, reserved_labels: set[str],
                 error_status: list[int | str] | None = None) -> None:
        self.probe, self.cfg = probe, cfg
        self.error_status: list[int | str] = error_status if error_status is not None else ["5xx"]
        self.reserved = reserved_labels | {"target"}
        self.allow_rx = [re.compile(r) for r in cfg.allow_regex]
        self.deny_rx = [re.compile(r) for r in cfg.deny_regex]
        self.prev_buckets: dict[str, dict[float, float]] | None = None
        self.prev_requests: dict[str, dict[str, float]] | None = None
        self.prev_time: float | None = None

    def wanted(self, family: str, sample: str) -> bool:
        names = (family, sample)
        if self.cfg.allow and not any(n.startswith(p) for n in names for p in self.cfg.allow):
            return False
        if self.allow_rx and not any(rx.fullmatch(n) for n in names for rx in self.allow_rx):
            return False
        if any(n.startswith(p) for n in names for p in self.cfg.deny):
            return False
        return not any(rx.fullmatch(n) for n in names for rx in self.deny_rx)

    def scrape(self, body: bytes, content_type: str, now: float) -> tuple[list[Sample], dict[str, Any]]:
        try:
            families = list(text_string_to_metric_families(body.decode("utf-8")))
        except Exception as exc:  # noqa: BLE001 - the parser raises several kinds on garbage
            ctype = f" (Content-Type {content_type})" if content_type else ""
            raise Fail("not_prometheus", f"not Prometheus text exposition{ctype}: {exc}") from None
        out: list[Sample] = []
        series = 0
        buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
        requests: dict[str, dict[str, float]] = defaultdict(lambda: {"all": 0.0, "errors": 0.0})
        totals: dict[str, dict[str, float]] = defaultdict(lambda: {"sum": 0.0, "count": 0.0})
        hist, counter = self.cfg.histogram, self.cfg.counter.removesuffix("_total")
        counted = {f.name for f in families if f.type in _COUNTER_TYPES}
        for fam in families:
            counter_kind = fam.type in _COUNTER_TYPES
            if fam.name.endswith("_created") and fam.name.removesuffix("_created") in counted:
                continue  # creation timestamps of counters (a gauge family in the text format)
            for s in fam.samples:
                if fam.name == hist and s.name.endswith("_bucket") and "le" in s.labels:
                    buckets[self._route(s.labels)][float(s.labels["le"])] += s.value
                elif fam.name == hist and s.name in (f"{hist}_sum", f"{hist}_count"):
                    totals[self._route(s.labels)][s.name.rsplit("_", 1)[1]] += s.value
                elif fam.name == counter and fam.type == "counter" and s.name.endswith("_total"):
                    r = requests[self._route(s.labels)]
                    r["all"] += s.value
                    if status_matches(self._status(s.labels), self.error_status):
                        r["errors"] += s.value
                if not self.cfg.export or (counter_kind and s.name.endswith("_created")):
                    continue
                if not self.wanted(fam.name, s.name):
                    continue
                series += 1
                if series > self.cfg.max_series:
                    continue
                # The application's own types: a histogram or summary stays one (promtool and
                # PromQL's histogram_quantile expect _bucket under a histogram), counters stay counters.
                kind = fam.type if fam.type in ("counter", "histogram", "summary") else "gauge"
                if kind == "counter" and not s.name.endswith("_total"):
                    kind = "gauge"  # a counter's _created (kept when not filtered above) is a timestamp
                labels = {(f"exported_{k}" if k in self.reserved else k): v for k, v in s.labels.items()}
                out.append(Sample(self.cfg.prefix + s.name, s.value, labels, kind,  # type: ignore[arg-type]
                                  fam.documentation or f"Scraped from the application ({fam.name})."))
        dropped = max(0, series - self.cfg.max_series)
        labels = {"probe": self.probe}
        out.append(Sample("lookout_http_scrape_series", series, labels,
                          help="Series in the scraped /metrics after the allow/deny filters."))
        out.append(Sample("lookout_http_scrape_series_dropped", dropped, labels,
                          help="Series not re-exported because max_series was exceeded."))
        doc: dict[str, Any] = {"families": len(families), "series": series, "dropped": dropped}
        if dropped:
            doc["warning"] = f"{series} series exceed max_series {self.cfg.max_series}; {dropped} dropped"
        routes, stats = self._window(buckets, requests, now)
        out.extend(stats)
        out.extend(self._totals(totals))
        doc["routes"] = routes
        return out, doc

    def _route(self, labels: dict[str, str]) -> str:
        return next((labels[n] for n in self.cfg.route_labels if n in labels), "")

    def _status(self, labels: dict[str, str]) -> str:
        return next((labels[n] for n in self.cfg.status_labels if n in labels), "")

    def _window(self, buckets: dict, requests: dict, now: float) -> tuple[dict[str, Any], list[Sample]]:
        prev_b, prev_r, prev_t = self.prev_buckets, self.prev_requests, self.prev_time
        self.prev_buckets = {k: dict(v) for k, v in buckets.items()}
        self.prev_requests = {k: dict(v) for k, v in requests.items()}
        self.prev_time = now
        if prev_b is None or prev_r is None or prev_t is None:
            return {}, []  # first poll: the baseline of the window
        routes: dict[str, Any] = defaultdict(dict)
        out: list[Sample] = []
        total: dict[float, float] = defaultdict(float)
        for route, cur in buckets.items():
            d = deltas(cur, prev_b.get(route, {})) or {}
            for le, v in d.items():
                total[le] += v
            out.extend(self._quantiles(route, d, routes))
        if len(buckets) > 1:
            out.extend(self._quantiles(_ALL, total, routes))
        elapsed = now - prev_t
        windows = {route: deltas(cur, prev_r.get(route, {})) or {} for route, cur in requests.items()}
        if len(windows) > 1:
            windows[_ALL] = {k: sum(d.get(k, 0.0) for d in windows.values()) for k in ("all", "errors")}
        for route, d in windows.items():
            labels = {"probe": self.probe, "route": route}
            if elapsed > 0:
                rate = d.get("all", 0.0) / elapsed
                routes[route]["requests_per_second"] = rate
                out.append(Sample("lookout_http_app_requests_per_second", rate, labels,
                                  help="Requests per second the application counted, over the window between polls."))
            if d.get("all", 0.0) > 0:
                ratio = d.get("errors", 0.0) / d["all"]
                routes[route]["error_ratio"] = ratio
                out.append(Sample("lookout_http_app_error_ratio", ratio, labels,
                                  help="Share of the application's requests answered with an error status "
                                       "(the target's error_status, default 5xx), over the window between polls."))
        return dict(routes), out

    def _quantiles(self, route: str, delta: dict[float, float], routes: dict) -> list[Sample]:
        out = []
        pairs = list(delta.items())
        for q in self.cfg.quantiles:
            v = bucket_quantile(q, pairs)
            if math.isnan(v):
                continue  # no request in the window: no latency, not zero
            routes[route][f"p{q * 100:g}"] = v
            out.append(Sample(_DURATION, v, {"probe": self.probe, "route": route, "quantile": f"{q:g}"},
                              "summary", _DURATION_HELP))
        return out

    def _totals(self, totals: dict[str, dict[str, float]]) -> list[Sample]:
        """The summary's ``_sum`` and ``_count``: the histogram's own, cumulative (all routes: their sum)."""
        if len(totals) > 1:
            totals = {**totals, _ALL: {k: sum(t[k] for t in totals.values()) for k in ("sum", "count")}}
        return [Sample(f"{_DURATION}_{part}", t[part], {"probe": self.probe, "route": route}, "summary",
                       _DURATION_HELP) for route, t in totals.items() for part in ("sum", "count")]
