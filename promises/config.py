"""The ``promises:`` section: the shop's promises as service-level objectives.

A promise is an SLO: an SLI (good events over all events from counters, or the
share of time a measured value stays within a bound), an objective (99 %),
a compliance window (30 days), a title and a unit. The shipped defaults are
the shop's usual promises; override one by its id without copying the rest::

    promises:
      objectives:
        - id: payment_success          # a shipped promise: only what differs
          events:
            good: [{metric: shop_payments_total, match: {status: paid}}]
        - id: checkout_latency         # a promise of your own: every field
          title: Checkout p99
          unit: seconds
          objective: 0.99
          threshold: {measure: quantile, quantile: 0.99, op: "<", value: 1.0,
                      metric: {metric: http_request_duration_seconds_bucket, match: {route: /checkout}}}
        - id: uptime
          enabled: false               # drop a shipped promise

An override merges mappings key by key and replaces lists; to count ``bad``
events where the default counts ``good`` ones, also say ``good: []``.

Every promise alerts by its error-budget burn rate, on several windows at
once (Google SRE Workbook, "Alerting on SLOs"): by default it pages when the
1 h and the 5 min windows both burn at least 14.4x the sustainable rate, or
the 6 h and 30 min windows at least 6x; a ticket-level warning at 3 d / 6 h
at least 1x. A 2 % failure rate against a 98 % objective burns 1x: it never
pages.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from core.configmodel import ConfigModel
from core.durations import Duration
from core.units import Unit, format_value

DAY = 86400.0


class Selector(ConfigModel):
    metric: str = Field(description="Metric name, e.g. `redis_keyspace_hits_total`.")
    match: dict[str, str] = Field(default_factory=dict,
                                  description="Label regexes, each matching the whole value (`status: 5..`).")

    @field_validator("match")
    @classmethod
    def _compiles(cls, v: dict[str, str]) -> dict[str, str]:
        for rx in v.values():
            try:
                re.compile(rx)
            except re.error as exc:
                raise ValueError(f"invalid regex {rx!r}: {exc}") from None
        return v

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(re.fullmatch(rx, labels.get(k, "")) for k, rx in self.match.items())


class Events(ConfigModel):
    """An event-based SLI: the share of good events among all, from counter increases."""

    good: list[Selector] = Field(default_factory=list, description="Counters of good events (or give `bad`).")
    bad: list[Selector] = Field(default_factory=list, description="Counters of bad events (or give `good`).")
    total: list[Selector] = Field(min_length=1, description="Counters of all events.")
    min_events: float = Field(
        20.0, ge=0, description="Fewer events than this in a window is too few to judge: the window says nothing.")

    @model_validator(mode="after")
    def _good_or_bad(self) -> Events:
        if bool(self.good) == bool(self.bad):
            raise ValueError("give exactly one of `good` and `bad`")
        return self


class Threshold(ConfigModel):
    """A time-based SLI: the share of time slices whose measured value is within the bound."""

    measure: Literal["mean", "quantile", "ratio"] = Field(description=(
        "mean of a gauge over the slice, quantile of a histogram's bucket rates, or ratio of two counters' "
        "increases (seconds_total / calls_total is a mean duration)."))
    metric: Selector | None = Field(None, description="mean: the gauge; quantile: the `_bucket` family.")
    quantile: float = Field(0.95, gt=0, lt=1, description="quantile: which one, 0 to 1.")
    numerator: list[Selector] = Field(default_factory=list, description="ratio: counters summed above the line.")
    denominator: list[Selector] = Field(default_factory=list, description="ratio: counters summed below it.")
    op: Literal["<", "<=", ">", ">="] = Field(description="A slice is good when `value op bound`.")
    value: float = Field(description="The bound, in the promise's unit's base (seconds, a 0-1 ratio).")

    @model_validator(mode="after")
    def _inputs(self) -> Threshold:
        if self.measure in ("mean", "quantile") and self.metric is None:
            raise ValueError(f"measure {self.measure} needs `metric`")
        if self.measure == "ratio" and not (self.numerator and self.denominator):
            raise ValueError("measure ratio needs `numerator` and `denominator`")
        return self

    def meets(self, v: float) -> bool:
        return {"<": v < self.value, "<=": v <= self.value, ">": v > self.value, ">=": v >= self.value}[self.op]


class BurnAlert(ConfigModel):
    """Fire ``severity`` when both windows burn the error budget at least ``factor`` times too fast."""

    severity: Literal["critical", "warning"] = Field(description="critical pages; warning is a ticket.")
    long: Duration = Field(description="The long window: the burn is real, not a blip.")
    short: Duration = Field(description="The short window: it is still burning now (resets fast).")
    factor: float = Field(gt=0, description="Burn rate: 1 spends the budget exactly over the compliance window.")

    @model_validator(mode="after")
    def _short_within_long(self) -> BurnAlert:
        if self.short >= self.long:
            raise ValueError(f"short ({self.short:g}s) must be shorter than long ({self.long:g}s)")
        return self


# Durations as written in YAML: the defaults are merged with the user's text before validation.
DEFAULT_BURN: list[dict[str, Any]] = [
    {"severity": "critical", "long": "1h", "short": "5m", "factor": 14.4},
    {"severity": "critical", "long": "6h", "short": "30m", "factor": 6.0},
    {"severity": "warning", "long": "3d", "short": "6h", "factor": 1.0},
]


class Promise(ConfigModel):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Stable id; the alert is `promise_<id>`.")
    title: str = Field(description="Shown on cards, in alerts and in the report.")
    unit: Unit = Field("ratio", description="How the measured value is shown (ratio as %, seconds as ms ...).")
    objective: float = Field(gt=0, lt=1, description="Share of good events (or good time) promised, e.g. 0.99.")
    window: Duration | None = Field(None, description="Compliance window; default `promises.window`.")
    now_window: Duration = Field(300.0, description="The card's 'now': the value over this last stretch.")
    events: Events | None = Field(None, description="Event-based SLI (give this or `threshold`).")
    threshold: Threshold | None = Field(None, description="Time-based SLI (give this or `events`).")
    burn_alerts: list[BurnAlert] | None = Field(None, description="Burn-rate alerts; default `promises.burn_alerts`.")
    enabled: bool = Field(True, description="false drops the promise (a shipped one too).")
    description: str = Field("", description="What the promise means to the shop, for the report.")

    @model_validator(mode="after")
    def _one_sli(self) -> Promise:
        if (self.events is None) == (self.threshold is None):
            raise ValueError("give exactly one of `events` and `threshold`")
        return self

    @property
    def alert_name(self) -> str:
        return f"promise_{self.id}"

    @property
    def shows_bad(self) -> bool:
        """An event SLI given by its bad events (an error rate) reads as the bad share, not the good."""
        return self.events is not None and bool(self.events.bad)

    @property
    def line(self) -> float:
        """Where the promise sits in the terms of its shown value: the objective (or the allowed bad
        share) of an event SLI, the bound of a time-based one."""
        if self.threshold is not None:
            return self.threshold.value
        return 1.0 - self.objective if self.shows_bad else self.objective

    def line_text(self) -> str:
        """``≥ 98.0 % of events``, ``≤ 1.0 % of events``, ``< 500 ms, 99.0 % of the time``."""
        if self.threshold is not None:
            op = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}[self.threshold.op]
            return f"{op} {format_value(self.threshold.value, self.unit)}, {format_value(self.objective, 'ratio')}" \
                   " of the time"
        return f"{'≤' if self.shows_bad else '≥'} {format_value(self.line, 'ratio')} of events"

    def metrics(self) -> set[str]:
        sels: list[Selector] = []
        if self.events:
            sels += self.events.good + self.events.bad + self.events.total
        if self.threshold:
            sels += self.threshold.numerator + self.threshold.denominator
            sels += [self.threshold.metric] if self.threshold.metric else []
        return {s.metric for s in sels}


def _sel(metric: str, **match: str) -> dict[str, Any]:
    return {"metric": metric, "match": match}


# The shop's usual promises. Metric names: redis_exporter's, the demo shop's
# (http_requests_total / http_request_duration_seconds, as prometheus_client
# apps name them), the business SQL target's shop_payments_total{status}.
DEFAULTS: list[dict[str, Any]] = [
    {"id": "cache_hit_rate", "title": "Cache hit rate", "unit": "ratio", "objective": 0.90,
     "description": "Nine in ten cache lookups are served from Redis.",
     "events": {"good": [_sel("redis_keyspace_hits_total")],
                "total": [_sel("redis_keyspace_hits_total"), _sel("redis_keyspace_misses_total")],
                "min_events": 100},
     # A 90 % objective burns at most 10x (every lookup a miss): 14.4x could never fire.
     "burn_alerts": [{"severity": "critical", "long": "1h", "short": "5m", "factor": 5.0},
                     {"severity": "warning", "long": "6h", "short": "30m", "factor": 2.0}]},
    {"id": "p95_latency", "title": "p95 latency", "unit": "seconds", "objective": 0.99,
     "description": "The 95th percentile of API response time stays under 500 ms, 99 % of the time.",
     "threshold": {"measure": "quantile", "quantile": 0.95, "op": "<", "value": 0.5,
                   "metric": _sel("http_request_duration_seconds_bucket")}},
    {"id": "payment_success", "title": "Payment success", "unit": "ratio", "objective": 0.98,
     "description": "At least 98 % of payments succeed.",
     "events": {"good": [_sel("shop_payments_total", status="succeeded|success|ok|paid")],
                "total": [_sel("shop_payments_total")], "min_events": 20}},
    {"id": "pool_utilisation", "title": "Pool utilisation", "unit": "ratio", "objective": 0.99,
     "description": "The connection pool stays under 80 % busy, 99 % of the time.",
     "threshold": {"measure": "mean", "op": "<", "value": 0.80, "metric": _sel("lookout_pool_utilization_ratio")}},
    {"id": "query_mean", "title": "Query mean time", "unit": "seconds", "objective": 0.99,
     "description": "Statements average under 100 ms, 99 % of the time.",
     "threshold": {"measure": "ratio", "op": "<", "value": 0.1,
                   "numerator": [_sel("pg_stat_statements_seconds_total")],
                   "denominator": [_sel("pg_stat_statements_calls_total")]}},
    {"id": "error_rate", "title": "Error rate", "unit": "ratio", "objective": 0.99,
     "description": "At most 1 % of API requests fail with a server error.",
     "events": {"bad": [_sel("http_requests_total", status="5..")], "total": [_sel("http_requests_total")],
                "min_events": 50}},
    {"id": "uptime", "title": "Uptime", "unit": "ratio", "objective": 0.999,
     "description": "Every watched service answers Lookout's polls 99.9 % of the time.",
     "threshold": {"measure": "mean", "op": ">=", "value": 1.0, "metric": _sel("lookout_target_up")}},
]


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: mappings merge key by key, anything else is replaced."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(base[k], v) if isinstance(v, Mapping) and isinstance(base.get(k), Mapping) else v
    return out


class PromisesConfig(ConfigModel):
    include_defaults: bool = Field(True, description="Start from the shipped promises (override them by id).")
    window: Duration = Field(30 * DAY, description="Compliance window of every promise that names none.")
    burn_alerts: list[BurnAlert] = Field(default_factory=lambda: [BurnAlert.model_validate(b) for b in DEFAULT_BURN],
                                         description="Burn-rate alerts of every promise that names none.")
    objectives: list[Promise] = Field(default_factory=list, description=(
        "Your promises, and overrides of shipped ones by id (only the fields that differ)."))

    @model_validator(mode="before")
    @classmethod
    def _with_defaults(cls, data: Any) -> Any:
        # Overrides are merged into their default *in place*, so a mistake is
        # reported at the index the user wrote; untouched defaults follow.
        if not isinstance(data, dict):
            return data
        given = data.get("objectives") or []
        if not isinstance(given, list):
            return data
        defaults = {d["id"]: d for d in DEFAULTS} if data.get("include_defaults", True) else {}
        merged = [_merge(defaults[o["id"]], o) if isinstance(o, dict) and o.get("id") in defaults else o
                  for o in given]
        named = {o.get("id") for o in given if isinstance(o, dict)}
        merged += [d for i, d in defaults.items() if i not in named]
        return {**data, "objectives": merged}

    @model_validator(mode="after")
    def _unique(self) -> PromisesConfig:
        ids = [p.id for p in self.objectives]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate promise id(s): {', '.join(dupes)}")
        return self

    @property
    def active(self) -> list[Promise]:
        """Enabled promises: the shipped ones in their order (overridden or not), then the user's own."""
        order = {d["id"]: i for i, d in enumerate(DEFAULTS)}
        mine = [p for p in self.objectives if p.enabled]
        return sorted(mine, key=lambda p: order.get(p.id, len(order)))

    def window_of(self, p: Promise) -> float:
        return float(p.window or self.window)

    def burn_of(self, p: Promise) -> list[BurnAlert]:
        return p.burn_alerts if p.burn_alerts is not None else self.burn_alerts

    def get(self, pid: str) -> Promise | None:
        return next((p for p in self.active if p.id == pid), None)
