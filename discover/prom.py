"""An application's Prometheus text: its request histogram and counter, their route and status
labels, a HikariCP pool, and the GET routes it has served (to look for cache headers)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

ROUTE_LABELS = ("route", "handler", "path", "uri", "endpoint", "path_template", "url")
STATUS_LABELS = ("status", "code", "status_code", "http_status")
DEFAULT_ROUTE_LABELS = ["route", "handler", "path"]
DEFAULT_STATUS_LABELS = ["status", "code"]
_HISTOGRAM = re.compile(r"http.*(request|server).*(duration|latency|seconds)", re.I)
_COUNTER = re.compile(r"http.*request", re.I)
# Micrometer's HikariCP gauges: role -> metric name.
HIKARI = {"in_use": "hikaricp_connections_active", "idle": "hikaricp_connections_idle",
          "total": "hikaricp_connections", "waiting": "hikaricp_connections_pending",
          "max": "hikaricp_connections_max"}


@dataclass
class AppMetrics:
    histogram: str | None = None          # family name, e.g. http_request_duration_seconds
    counter: str | None = None            # sample name, e.g. http_requests_total
    route_label: str | None = None
    status_label: str | None = None
    histograms: list[str] = field(default_factory=list)
    counters: list[str] = field(default_factory=list)
    pool: dict[str, str] | None = None    # role -> metric name (HikariCP through Micrometer)
    pool_labels: dict[str, str] = field(default_factory=dict)
    get_routes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _first(labels: set[str], names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in labels), None)


def read_metrics(text: str) -> AppMetrics:
    """Raises ValueError when the text is not Prometheus exposition."""
    families = list(text_string_to_metric_families(text))
    out = AppMetrics()
    labels_of: dict[str, set[str]] = {}
    routes: dict[str, set[str]] = {}
    for fam in families:
        keys: set[str] = set()
        for s in fam.samples:
            keys |= set(s.labels) - {"le", "quantile"}
        labels_of[fam.name] = keys
        if fam.type == "histogram":
            out.histograms.append(fam.name)
        elif fam.type == "counter":
            out.counters.append(fam.name + "_total")
        route_label = _first(keys, ROUTE_LABELS)
        if route_label and fam.type in ("histogram", "counter"):
            for s in fam.samples:
                method = s.labels.get("method", "GET").upper()
                routes.setdefault(s.labels.get(route_label, ""), set()).add(method)
    # The request histogram: by name, in seconds (quantiles are read as seconds), with a route label.
    hist = [h for h in out.histograms if _HISTOGRAM.search(h)]
    hist.sort(key=lambda h: (h != "http_request_duration_seconds", "seconds" not in h, h))
    if hist:
        out.histogram = hist[0]
        if "seconds" not in out.histogram:
            out.notes.append(f"histogram {out.histogram} does not say it is in seconds; Lookout reads its "
                             "buckets as seconds")
    counters = [c for c in out.counters if _COUNTER.search(c)
                and _first(labels_of.get(c.removesuffix("_total"), set()), STATUS_LABELS)]
    counters.sort(key=lambda c: (c != "http_requests_total", c))
    if counters:
        out.counter = counters[0]
    main = out.histogram or (out.counter.removesuffix("_total") if out.counter else None)
    if main:
        keys = labels_of.get(main, set()) | (labels_of.get(out.counter.removesuffix("_total"), set())
                                             if out.counter else set())
        out.route_label = _first(keys, ROUTE_LABELS)
        out.status_label = _first(keys, STATUS_LABELS)
    names = {s.name: s.labels for fam in families for s in fam.samples}
    pool = {role: name for role, name in HIKARI.items() if name in names}
    if "in_use" in pool and "max" in pool:
        out.pool = pool
        first = names[pool["in_use"]]
        out.pool_labels = {"pool": first["pool"]} if "pool" in first else {}
    out.get_routes = sorted(r for r, methods in routes.items() if r.startswith("/") and "GET" in methods)
    return out


_PARAM = re.compile(r"<[^>]+>|\{[^}]+\}|(?<=/):[A-Za-z_]\w*")


def example_path(route: str, n: int = 1) -> str:
    """A route template made concrete: ``/api/products/<int:pid>``, ``{id}``, ``:id`` -> ``1``."""
    return _PARAM.sub(str(n), route)


def is_template(route: str) -> bool:
    return _PARAM.search(route) is not None
