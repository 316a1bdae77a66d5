"""The shop's promises measured over the selected range: value, pass/fail, sparkline.

One objective = one value over the whole range and one per bucket (the
sparkline), both from the same fetch. Models are in ``dashboards.config``.
"""
from __future__ import annotations

from dataclasses import dataclass

from dashboards import series
from dashboards.config import Objective
from dashboards.fetch import Fetch

SPARK_POINTS = 60


@dataclass
class Score:
    objective: Objective
    value: float | None
    passed: bool | None
    spark: series.Line
    reason: str | None = None  # why there is no value


def evaluate(obj: Objective, fetch: Fetch) -> Score:
    pts = SPARK_POINTS
    if obj.measure == "ratio":
        good = [r for s in obj.good for r in fetch.selected(s, "rate", points=pts)]
        total = [r for s in obj.total for r in fetch.selected(s, "rate", points=pts)]
        den = series.total_increase(total)
        value = series.total_increase(good) / den if den > 0 else None
        spark = series.pairs_line(obj.title, series.ratio_series(series.sum_by_ts(good), series.sum_by_ts(total)))
        metrics = [s.metric for s in obj.total]
    elif obj.measure == "gauge_ratio":
        good = [r for s in obj.good for r in fetch.selected(s, points=pts)]
        total = [r for s in obj.total for r in fetch.selected(s, points=pts)]
        mean_good, mean_total = series.weighted_mean(good), series.weighted_mean(total)
        # Means of sums, not sums of means: several pools each report a size.
        num = None if mean_good is None else mean_good * len(good)
        whole = None if mean_total is None else mean_total * len(total)
        value = num / whole if num is not None and whole else None
        spark = series.pairs_line(obj.title, series.ratio_series(series.sum_by_ts(good), series.sum_by_ts(total)))
        metrics = [s.metric for s in obj.good + obj.total]
    elif obj.measure == "quantile":
        assert obj.metric is not None
        ranges = fetch.selected(obj.metric, "rate", points=pts)
        value = series.overall_quantile(ranges, obj.quantile)
        per = series.quantile_by_ts(ranges, obj.quantile).get("", [])
        spark = series.pairs_line(obj.title, per)
        metrics = [obj.metric.metric]
    else:  # mean
        assert obj.metric is not None
        ranges = fetch.selected(obj.metric, points=pts)
        value = series.weighted_mean(ranges)
        spark = series.pairs_line(obj.title, sorted(_mean_by_ts(ranges).items()))
        metrics = [obj.metric.metric]
    reason = None
    if value is None:
        missing = [m for m in metrics if m not in fetch.names()]
        reason = (f"{', '.join(missing)} not collected" if missing
                  else "no data in the selected range")
    return Score(obj, value, None if value is None else obj.passes(value), spark, reason)


def _mean_by_ts(ranges: list) -> dict[float, float]:
    num: dict[float, float] = {}
    den: dict[float, float] = {}
    for r in ranges:
        for b in r.points:
            num[b.ts] = num.get(b.ts, 0.0) + b.avg * b.count
            den[b.ts] = den.get(b.ts, 0.0) + b.count
    return {ts: num[ts] / den[ts] for ts in num if den[ts]}


def evaluate_all(fetch: Fetch) -> list[Score]:
    return [evaluate(o, fetch) for o in fetch.cfg.scorecard]


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "ratio":
        pct = value * 100
        # Near 100 % the promise lives in the decimals (99.9 % uptime).
        return f"{pct:.3f} %" if 99.5 <= pct < 100 else f"{pct:.1f} %"
    if unit == "seconds":
        if value < 0.001:  # the demo's statements average 50 µs: "0 ms" read as broken
            return f"{value * 1e6:.0f} µs"
        if value < 0.01:
            return f"{value * 1000:.1f} ms"
        return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"
    return f"{value:,.0f}"


def format_target(obj: Objective) -> str:
    op = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}[obj.op]
    return f"{op} {format_value(obj.target, obj.unit)}"
