"""Probe an application under its base URL: health, metrics and pool endpoints at the usual
paths, and a cache header on its reads. Only GET requests, each bounded in time and size."""
from __future__ import annotations

import json
from typing import Any

import requests

from collectors.redis import safe_url
from discover import shapes
from discover.findings import App, AppPool, Findings, HealthProbe
from discover.placeholders import without_password
from discover.prom import example_path, is_template, read_metrics

PART = "app"
ENV = "APP_PASSWORD"
HEALTH_PATHS = ("/health", "/healthz", "/api/health", "/actuator/health", "/api/healthz", "/health/ready",
                "/healthcheck", "/api/healthcheck", "/status", "/api/status", "/_health", "/readyz", "/ready")
METRICS_PATHS = ("/metrics", "/actuator/prometheus", "/api/metrics", "/prometheus", "/metrics/prometheus")
POOL_PATHS = ("/api/pool", "/pool", "/api/performance/stats", "/api/stats", "/stats", "/api/db/pool",
              "/api/pool/stats", "/debug/pool", "/actuator/hikaricp")
CACHE_PATHS = ("/", "/api/products/1", "/products/1", "/api/items/1", "/items/1")
MAX_ROUTES = 30
SAMPLE_URLS = 5      # reads of a cached route per poll
MAX_BODY = 1 << 20


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Prober:
    def __init__(self, base_url: str, timeout: float) -> None:
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.answers: dict[str, Answer | str] = {}   # path -> answer, or why there was none

    def get(self, path: str) -> Answer | None:
        if path not in self.answers:
            try:
                with self.session.get(self.base + path, timeout=self.timeout, stream=True) as resp:
                    body = resp.raw.read(MAX_BODY, decode_content=True)
                    self.answers[path] = Answer(resp.status_code, dict(resp.headers), body)
            except requests.RequestException as exc:
                self.answers[path] = exc.__class__.__name__
        got = self.answers[path]
        return got if isinstance(got, Answer) else None

    def outcomes(self, paths: tuple[str, ...] | list[str]) -> str:
        said = []
        for p in paths:
            got = self.answers.get(p)
            said.append(f"{p} {got.status if isinstance(got, Answer) else got}")
        return ", ".join(said)


def probe(base_url: str, found: Findings, timeout: float = 3.0) -> App | None:
    shown = safe_url(base_url)
    p = Prober(base_url, timeout)
    try:
        first = p.session.get(p.base + "/", timeout=timeout, stream=True)
        first.close()
    except requests.RequestException as exc:
        found.notes.missing(PART, f"cannot reach {shown}: {exc.__class__.__name__}; no http or pool target "
                                  "written for it (is the application running, and is this its base URL?)")
        return None
    written, had_password = without_password(base_url, ENV)
    if had_password:
        found.env[ENV] = "the password in the application's base URL"
    app = App(base_url=written.rstrip("/"))
    app.health = _health(p, found)
    _metrics(p, app, found)
    _pool(p, app, found)
    _cache(p, app, found)
    p.session.close()
    return app


def _health(p: Prober, found: Findings) -> HealthProbe | None:
    plain: HealthProbe | None = None
    for path in HEALTH_PATHS:
        got = p.get(path)
        if got is None or not (200 <= got.status < 300 or got.status == 503):
            continue
        doc = got.json()
        mapped = shapes.health_map(doc)
        if mapped is not None:
            mapping, shape = mapped
            extra = shapes.unknown_up_value(doc, mapping)
            if extra is not None and got.status < 300:
                mapping["up_values"] = [*shapes.DEFAULT_UP, extra]
            found.notes.found(PART, f"health at {path} (HTTP {got.status}): {shape}, dependencies at "
                                    f"{mapping['dependencies']}" + (f", timings in {mapping['latency']}"
                                                                     if "latency" in mapping else ""))
            return HealthProbe(path, got.status, shape, mapping)
        if plain is None and got.status < 300:
            status = shapes.overall_status(doc)
            expect = {"path": "$.status", "equals": status} if status is not None else None
            plain = HealthProbe(path, got.status, None, None, expect)
    tried = p.outcomes(HEALTH_PATHS)
    if plain is not None:
        found.notes.found(PART, f"health at {plain.path}: up/down only (no per-dependency status recognised)")
        return plain
    found.notes.missing(PART, f"no health endpoint answered 2xx or 503 ({tried}); add a probe with `health:` "
                              "by hand if the application has one elsewhere")
    return None


def _metrics(p: Prober, app: App, found: Findings) -> None:
    for path in METRICS_PATHS:
        got = p.get(path)
        if got is None or got.status != 200 or got.text().lstrip().startswith("<"):
            continue
        try:
            m = read_metrics(got.text())
        except Exception:  # noqa: BLE001 - the parser raises several kinds on what is not Prometheus text
            continue
        if not (m.histograms or m.counters):
            continue
        app.metrics_path, app.metrics = path, m
        found.notes.found(PART, f"Prometheus metrics at {path}: histograms {', '.join(m.histograms) or 'none'}; "
                                f"counters {', '.join(m.counters) or 'none'}")
        if m.histogram:
            found.notes.found(PART, f"request histogram {m.histogram} (route label {m.route_label or 'none'}, "
                                    f"status label {m.status_label or 'none'}): p95 latency")
        else:
            found.notes.missing(PART, "no request-duration histogram in seconds (http_*_duration_seconds): no "
                                      "latency quantiles; the p95_latency promise and the http_p95_latency rule "
                                      "are off")
        if m.counter:
            found.notes.found(PART, f"request counter {m.counter}: error ratio")
        elif m.histogram and m.status_label:
            found.notes.missing(PART, f"no request counter with a status label; the error_rate promise counts "
                                      f"{m.histogram}_count instead")
        else:
            found.notes.missing(PART, "no request counter with a status label: the error_rate promise is off")
        for note in m.notes:
            found.notes.missing(PART, note)
        return
    found.notes.missing(PART, f"no Prometheus metrics ({p.outcomes(METRICS_PATHS)}): no request latency or "
                              "error ratio; the p95_latency and error_rate promises and the http_p95_latency rule "
                              "are off")


def _pool(p: Prober, app: App, found: Findings) -> None:
    paths = [path for path in (*POOL_PATHS, *HEALTH_PATHS) if path in p.answers or path in POOL_PATHS]
    for path in paths:
        got = p.get(path)
        if got is None or got.status != 200:
            continue
        mapped = shapes.pool_fields(got.json())
        if mapped is None:
            continue
        fields, shape = mapped
        app.pool = AppPool(shape, fields, url=app.base_url + path)
        found.notes.found(PART, f"connection pool at {path}: {shape} "
                                f"({', '.join(f'{k}: {v}' for k, v in fields.items())})")
        break
    else:
        m = app.metrics
        if m is not None and m.pool is not None:
            app.pool = AppPool("HikariCP (Micrometer)", dict(m.pool),
                               metrics_url=app.base_url + (app.metrics_path or ""), match_labels=m.pool_labels)
            found.notes.found(PART, f"connection pool in the metrics: HikariCP ({', '.join(m.pool.values())})")
        else:
            found.notes.missing(PART, f"no pool document ({p.outcomes(list(POOL_PATHS))}) and no pool in the "
                                      "metrics: pool utilisation is off (add an apps: entry to the pool target)")
            return
    if "max" not in app.pool.fields:
        found.notes.missing(PART, "the pool reports no maximum: no utilisation ratio, the pool_utilisation "
                                  "promise is off")
    elif app.pool.shape == "SQLAlchemy" and app.pool.fields["max"].endswith("size"):
        found.notes.missing(PART, "the pool reports pool_size but not pool_size + max_overflow: utilisation is "
                                  "over pool_size and may pass 1 while overflow connections are open")


def _cache(p: Prober, app: App, found: Findings) -> None:
    templates = {example_path(r): r for r in (app.metrics.get_routes if app.metrics else []) if is_template(r)}
    routes = [example_path(r) for r in (app.metrics.get_routes if app.metrics else [])][:MAX_ROUTES]
    candidates = list(dict.fromkeys([*p.answers, *routes, *CACHE_PATHS]))
    for path in candidates:
        got = p.get(path)
        if got is None or got.status >= 400:
            continue
        hit = shapes.cache_header(got.headers)
        if hit is None:
            continue
        paths = [path]
        if path in templates:  # several reads a poll give the ratio a denominator: those that answer
            more = [example_path(templates[path], n) for n in range(2, SAMPLE_URLS + 1)]
            paths += [m for m in more if (a := p.get(m)) is not None and a.status < 400
                      and shapes.cache_header(a.headers) is not None]
        app.cache = (paths, *hit)
        more_reads = f" (and {len(paths) - 1} more reads of {templates[path]})" if len(paths) > 1 else ""
        found.notes.found(PART, f"cache header {hit[0]}: {hit[1]} on {path}{more_reads}")
        return
    found.notes.missing(PART, f"no X-Cache, X-Cache-Status or CF-Cache-Status header on {len(candidates)} reads "
                              "(the application's routes from its metrics and usual paths); the cache promise "
                              "reads Redis instead")
