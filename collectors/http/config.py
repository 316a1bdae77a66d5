"""Config models of ``kind: http``.

A target holds a list of probes, or one probe written inline::

    - name: shop-home                # one probe: its keys sit on the target
      kind: http
      url: https://shop.example/
      expect_keyword: Add to cart

    - name: shop-api                 # several probes
      kind: http
      base_url: http://127.0.0.1:8000
      headers: {Authorization: "Bearer ${SHOP_TOKEN}"}
      probes:
        - {name: home, url: /, cache_header: X-Cache}
        - name: health
          url: /api/health
          health: {dependencies: $.checks, status: status, latency: latency_ms, latency_unit: ms}
        - {name: metrics, url: /metrics, prometheus: {allow: [http_, shop_]}}
        - {name: products, urls: [/api/products/1, /api/products/2], cache_header: X-Cache}
      error_status: [5xx, 402]       # what counts as an error (default 5xx)

Paths are read by ``collectors.jsonpath`` (``$.a.b[0]`` or ``a.b.0``) and checked
here, so a malformed one is a config error at its key.
"""
from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from collectors.jsonpath import PathText
from core.configmodel import ConfigModel
from core.durations import Duration
from core.targets import TargetBase

_PROBE_NAME = r"^[A-Za-z][A-Za-z0-9_.:-]*$"
_STATUS = re.compile(r"^[1-5](xx|\d\d)$")


def status_matches(code: int | str, patterns: list[int | str]) -> bool:
    """Whether an HTTP status (``402`` or ``"402"``) is one of ``patterns`` (``402``, ``"4xx"``)."""
    code = str(code)
    for s in patterns:
        s = str(s).lower()
        if s == code or (s.endswith("xx") and code[:1] == s[0] and len(code) == 3):
            return True
    return False


def _check_statuses(v: list[int | str]) -> list[int | str]:
    for s in v:
        if not _STATUS.match(str(s).lower()):
            raise ValueError(f"{s!r} is not a status code or class (use 200 or 2xx)")
    return v


class JsonExpect(ConfigModel):
    path: PathText = Field(description="JSON path, e.g. `$.status`, `$.items[0].id` or `items.0.id`.")
    equals: Any = Field(None, description="Expected value; omitted: the path must exist.")


class HealthMap(ConfigModel):
    dependencies: PathText = Field("$.checks",
                                   description="Path to an object (name -> entry) or a list of entries.")
    name: PathText = Field("name", description="Path of the dependency name inside an entry (for lists).")
    status: PathText = Field("status", description="Path of the status inside an entry.")
    up_values: list[Any] = Field(default_factory=lambda: ["ok", "up", "pass", "passing", "healthy", True],
                                 description="Statuses that mean up (strings compared case-insensitively).")
    latency: PathText | None = Field(None, description="Path of the timing inside an entry, e.g. `latency_ms`.")
    latency_unit: Literal["s", "ms", "us"] = Field("s", description="Unit of the timing in the document.")
    overall: PathText | None = Field(None,
                                     description="Path of the document's overall status, e.g. `$.status`.")


class PromScrape(ConfigModel):
    allow: list[str] = Field(default_factory=list, description="Keep only families with one of these name prefixes.")
    deny: list[str] = Field(default_factory=list, description="Drop families with one of these name prefixes.")
    allow_regex: list[str] = Field(default_factory=list, description="Keep families whose name fully matches one.")
    deny_regex: list[str] = Field(default_factory=list, description="Drop families whose name fully matches one.")
    export: bool = Field(True, description="Re-export the scraped samples (after filtering).")
    prefix: str = Field("", description="Prepended to every re-exported sample name.")
    max_series: int = Field(10_000, ge=1, description="Re-export at most this many series; the rest are counted.")
    histogram: str = Field("http_request_duration_seconds", description="Request-duration histogram family.")
    counter: str = Field("http_requests_total", description="Request counter family (with a status label).")
    route_labels: list[str] = Field(default_factory=lambda: ["route", "handler", "path"],
                                    description="First of these labels present names the route.")
    status_labels: list[str] = Field(default_factory=lambda: ["status", "code"],
                                     description="First of these labels present holds the HTTP status.")
    quantiles: list[float] = Field(default_factory=lambda: [0.5, 0.95, 0.99],
                                   description="Latency quantiles computed per route from the histogram.")

    @field_validator("allow_regex", "deny_regex")
    @classmethod
    def _compiles(cls, v: list[str]) -> list[str]:
        for rx in v:
            try:
                re.compile(rx)
            except re.error as exc:
                raise ValueError(f"invalid regex {rx!r}: {exc}") from None
        return v

    @field_validator("quantiles")
    @classmethod
    def _in_range(cls, v: list[float]) -> list[float]:
        if any(not 0 <= q <= 1 for q in v):
            raise ValueError("quantiles must lie in 0..1")
        return v


class Probe(ConfigModel):
    name: str = Field(pattern=_PROBE_NAME, description="Becomes the `probe` label.")
    url: str | None = Field(None, description="Absolute URL, or a path relative to the target's `base_url`.")
    urls: list[str] = Field(default_factory=list, description=(
        "Several URLs requested each poll instead of `url` (e.g. product pages, so a cache-header ratio "
        "counts several lookups a poll); the probe succeeds when every one does."))
    method: str = Field("GET", pattern=r"^[A-Z]+$", description="HTTP method, upper case.")
    headers: dict[str, str] = Field(default_factory=dict,
                                    description="Added over the target's headers; secrets as ${ENV}.")
    body: str | None = Field(None, description="Request body (for POST/PUT).")
    expect_status: list[int | str] = Field(default_factory=lambda: list[int | str](["2xx"]),
                                           description="Accepted status codes: 200, or a class like 2xx.")
    timeout: Duration | None = Field(
        None, description="Whole probe including redirects and body; default the target's timeout.")
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1, description="Stop reading the body past this size (an error).")
    expect_keyword: str | None = Field(None, description="The body must contain this text.")
    expect_json: JsonExpect | None = Field(None, description="The body must be JSON with this value at this path.")
    follow_redirects: bool = Field(True, description="Follow 3xx answers (same host unless allowed below).")
    allow_cross_host_redirects: bool = Field(False, description="Follow redirects to another host name.")
    max_redirects: int = Field(5, ge=0, description="More redirects than this fail the probe.")
    tls_verify: bool = Field(True, description="Verify the server certificate (false: still reports its expiry).")
    ca_file: str | None = Field(None, description="PEM bundle to verify against instead of the system store.")
    cache_header: str | None = Field(None, description="Response header telling cache HIT/MISS, e.g. X-Cache.")
    cache_hit_values: list[str] = Field(default_factory=lambda: ["HIT"],
                                        description="Values of `cache_header` that count as a hit.")
    cache_miss_values: list[str] = Field(default_factory=lambda: ["MISS"],
                                         description="Values of `cache_header` that count as a miss.")
    health: HealthMap | None = Field(None, description="Map a health JSON document to dependency series.")
    prometheus: PromScrape | None = Field(None, description="Scrape the body as Prometheus text.")

    @field_validator("expect_status")
    @classmethod
    def _statuses(cls, v: list[int | str]) -> list[int | str]:
        return _check_statuses(v)

    @model_validator(mode="after")
    def _one_url(self) -> Probe:
        if (self.url is None) == (not self.urls):
            raise ValueError("give exactly one of url or urls")
        if self.urls and (self.health is not None or self.prometheus is not None):
            raise ValueError("health and prometheus read one document: use url, not urls")
        return self

    @property
    def url_list(self) -> list[str]:
        """The URLs as written (``url`` or ``urls``)."""
        return [self.url] if self.url is not None else list(self.urls)

    def status_ok(self, code: int) -> bool:
        return status_matches(code, self.expect_status)


_PROBE_KEYS = set(Probe.model_fields) - {"name"}


class HttpTarget(TargetBase):
    kind: Literal["http"] = "http"
    base_url: str | None = Field(None, description="Prefix for probe URLs that are paths.")
    headers: dict[str, str] = Field(default_factory=dict, description="Sent with every probe; secrets as ${ENV}.")
    keep_alive: bool = Field(False, description="Reuse connections between polls (then connect time is "
                                                "reported only when a probe opened one).")
    probes: list[Probe] = Field(min_length=1, description="The probes, run one after another each poll.")
    error_status: list[int | str] = Field(default_factory=lambda: list[int | str](["5xx"]), description=(
        "Statuses that count as errors, e.g. `[5xx, 402]`: in the application's error ratio "
        "(`lookout_http_app_error_ratio`) and for probes: a code named here exactly fails a probe whose "
        "`expect_status` accepts it only by class (402 with `4xx`)."))

    @field_validator("error_status")
    @classmethod
    def _error_statuses(cls, v: list[int | str]) -> list[int | str]:
        return _check_statuses(v)

    def is_error(self, code: int | str) -> bool:
        return status_matches(code, self.error_status)

    @model_validator(mode="before")
    @classmethod
    def _single_probe_inline(cls, data: Any) -> Any:
        # A lone probe reads best with its keys on the target itself.
        if isinstance(data, dict) and "probes" not in data and ("url" in data or "urls" in data):
            data = dict(data)
            # headers and timeout stay on the target, which bounds its only probe anyway
            probe = {k: data.pop(k) for k in list(data) if k in _PROBE_KEYS - {"headers", "timeout"}}
            probe["name"] = data.get("name", "main")
            data["probes"] = [probe]
        return data

    @model_validator(mode="after")
    def _unique_probe_names(self) -> HttpTarget:
        names = [p.name for p in self.probes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate probe names: {', '.join(dupes)}")
        for p in self.probes:
            for url in p.url_list:
                if "://" not in url and not self.base_url:
                    raise ValueError(f"probe {p.name!r}: url {url!r} is a path but the target has no base_url")
        return self

    def probe_urls(self, probe: Probe) -> list[str]:
        return [self.absolute(u) for u in probe.url_list]

    def probe_url(self, probe: Probe) -> str:
        return self.absolute(probe.url_list[0])

    def absolute(self, url: str) -> str:
        if "://" in url:
            return url
        return self.base_url.rstrip("/") + "/" + url.lstrip("/")  # type: ignore[union-attr]
