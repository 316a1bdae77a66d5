"""The ``dashboards:`` config section: the shop's promised targets (the scorecard).

Each objective says how to measure one promise from stored series and what
the promise is::

    dashboards:
      scorecard:
        - id: cache_hit_rate
          title: Cache hit rate
          measure: ratio                 # sum(increase(good)) / sum(increase(total))
          good: [{metric: redis_keyspace_hits_total}]
          total: [{metric: redis_keyspace_hits_total}, {metric: redis_keyspace_misses_total}]
          op: ">="
          target: 0.90
          warning: 0.95                  # optional: drawn as the warning line
          unit: ratio

Measures: ``ratio`` of counter increases (hit rates, error rates, mean
query time as seconds/calls), ``quantile`` of a Prometheus histogram
(``metric`` is the ``_bucket`` family), ``mean`` of a gauge (uptime from
``lookout_target_up``), ``gauge_ratio`` of two gauges' means (pool in use
over pool size). ``match`` holds label regexes (full match), so ``code: 5..``
selects server errors.
"""
from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from core.configmodel import ConfigModel


class Selector(ConfigModel):
    metric: str = Field(description="Metric name, e.g. `redis_keyspace_hits_total`.")
    match: dict[str, str] = Field(default_factory=dict,
                                  description="Label regexes (full match), e.g. `{code: '5..'}`.")

    @field_validator("match")
    @classmethod
    def _compiles(cls, v: dict[str, str]) -> dict[str, str]:
        for rx in v.values():
            try:
                re.compile(rx)
            except re.error as exc:
                raise ValueError(f"invalid regex {rx!r}: {exc}") from None
        return v


class Objective(ConfigModel):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Stable id; panels find their thresholds by it.")
    title: str = Field(description="Shown on the overview's scorecard.")
    measure: Literal["ratio", "quantile", "mean", "gauge_ratio"] = Field(description=(
        "ratio of counter increases, quantile of a histogram, mean of a gauge, or gauge_ratio of two gauges' "
        "means."))
    good: list[Selector] = Field(default_factory=list, description="ratio/gauge_ratio: the numerator series.")
    total: list[Selector] = Field(default_factory=list, description="ratio/gauge_ratio: the denominator series.")
    metric: Selector | None = Field(None, description="quantile: the `_bucket` family; mean: the gauge.")
    quantile: float = Field(0.95, gt=0, lt=1, description="quantile: which one, 0 to 1.")
    op: Literal[">=", ">", "<=", "<"] = Field(description="The promise holds when `value op target`.")
    target: float = Field(description="The promise; failing it is the critical line on panels.")
    warning: float | None = Field(None, description="Optional early-warning line.")
    unit: Literal["ratio", "seconds", "count"] = Field("ratio", description="How values are printed (a ratio as %).")

    @model_validator(mode="after")
    def _inputs_present(self) -> Objective:
        if self.measure in ("ratio", "gauge_ratio") and not (self.good and self.total):
            raise ValueError(f"{self.measure} needs `good` and `total`")
        if self.measure in ("quantile", "mean") and self.metric is None:
            raise ValueError(f"{self.measure} needs `metric`")
        return self

    def passes(self, value: float) -> bool:
        return {">=": value >= self.target, ">": value > self.target,
                "<=": value <= self.target, "<": value < self.target}[self.op]

    @property
    def higher_is_better(self) -> bool:
        return self.op.startswith(">")


def _sel(metric: str, **match: str) -> dict:
    return {"metric": metric, "match": match}


DEFAULT_SCORECARD: list[dict] = [
    {"id": "cache_hit_rate", "title": "Cache hit rate", "measure": "ratio",
     "good": [_sel("redis_keyspace_hits_total")],
     "total": [_sel("redis_keyspace_hits_total"), _sel("redis_keyspace_misses_total")],
     "op": ">=", "target": 0.90, "warning": 0.95, "unit": "ratio"},
    {"id": "p95_latency", "title": "p95 latency", "measure": "quantile",
     "metric": _sel("http_request_duration_seconds_bucket"), "quantile": 0.95,
     "op": "<", "target": 0.5, "warning": 0.3, "unit": "seconds"},
    {"id": "payment_success", "title": "Payment success", "measure": "ratio",
     "good": [_sel("shop_payments_total", status="succeeded|success|ok")],
     "total": [_sel("shop_payments_total")],
     "op": ">=", "target": 0.98, "warning": 0.99, "unit": "ratio"},
    {"id": "pool_utilisation", "title": "Pool utilisation", "measure": "mean",
     "metric": _sel("lookout_pool_utilization_ratio"),
     "op": "<", "target": 0.80, "warning": 0.70, "unit": "ratio"},
    {"id": "query_mean", "title": "Query mean time", "measure": "ratio",
     "good": [_sel("pg_stat_statements_seconds_total")],
     "total": [_sel("pg_stat_statements_calls_total")],
     "op": "<", "target": 0.1, "warning": 0.05, "unit": "seconds"},
    {"id": "error_rate", "title": "Error rate", "measure": "mean",
     "metric": _sel("lookout_http_app_error_ratio", route=r"\*"),
     "op": "<", "target": 0.01, "warning": 0.005, "unit": "ratio"},
    {"id": "uptime", "title": "Uptime", "measure": "mean",
     "metric": _sel("lookout_target_up"),
     "op": ">=", "target": 0.999, "unit": "ratio"},
]


class Business(ConfigModel):
    """Metric names of the shop's business SQL (``kind: sql`` targets name them)."""

    revenue: str = Field("shop_revenue_total", description="Counter of revenue (currency units).")
    orders: str = Field("shop_orders_total", description="Counter of orders placed.")
    payments: str = Field("shop_payments_total", description="Counter of payments, with a status label.")
    payment_status_label: str = Field("status", description="Label of `payments` holding the outcome.")
    payment_failed: str = Field("failed|failure|error|declined", description="Regex of failed outcomes.")
    currency: str = Field("€", description="Shown next to revenue figures.")


class DashboardsConfig(ConfigModel):
    scorecard: list[Objective] = Field(default_factory=lambda: [Objective.model_validate(o)
                                                                for o in DEFAULT_SCORECARD],
                                       description="The promises checked on the overview and drawn as lines on panels.")
    business: Business = Field(default_factory=Business)
    points: int = Field(180, ge=50, le=1000,
                        description="Buckets per series on time-series panels (about 3 px each on a laptop).")

    @model_validator(mode="after")
    def _unique_ids(self) -> DashboardsConfig:
        ids = [o.id for o in self.scorecard]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate scorecard id(s): {', '.join(dupes)}")
        return self

    def objective(self, oid: str) -> Objective | None:
        return next((o for o in self.scorecard if o.id == oid), None)
