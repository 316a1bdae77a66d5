"""Series selection and reduction: a rule's expression -> one value per series.

``reduce`` is pure (points, aggregation, window, now) -> value. Two special
results: ``None`` means no sample in the window (no data); NaN means the
series is alive but the value is undefined this time (one point of a
counter, or a ratio over zero traffic) -- evaluation keeps the state then.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from alerts.config import Expr, Rule
from alerts.matchers import all_match, exact
from store.types import canonical_labels

NAN = float("nan")
Points = Sequence[tuple[float, float]]
Values = dict[str, tuple[dict[str, str], float | None]]  # canonical labels -> (labels, value)


class SampleSource(Protocol):
    def raw(self, name: str, matchers: Mapping[str, str] | None, start: float,
            end: float) -> list[Any]: ...


def reduce(points: Points, agg: str, window: float, now: float) -> float | None:
    pts = [(t, v) for t, v in points if now - window < t <= now]
    if not pts:
        return None
    vals = [v for _, v in pts]
    if agg == "last":
        return vals[-1]
    if agg == "avg":
        return sum(vals) / len(vals)
    if agg == "min":
        return min(vals)
    if agg == "max":
        return max(vals)
    if agg == "p95":
        ordered = sorted(vals)  # nearest rank: a real observed value, never interpolated
        return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]
    if len(pts) < 2:
        return NAN
    if agg == "delta":
        return vals[-1] - vals[0]
    inc = sum((b - a) if b >= a else b for a, b in zip(vals, vals[1:]))  # a drop is a counter reset
    if agg == "increase":
        return inc
    if agg == "rate":
        return inc / (pts[-1][0] - pts[0][0])
    raise ValueError(f"unknown aggregation {agg!r}")


def _plus(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return a + b


def group(values: Values, by: list[str] | None) -> Values:
    if by is None:
        return values
    out: Values = {}
    for labels, v in values.values():
        g = {k: labels[k] for k in by if k in labels}
        key = canonical_labels(g)
        out[key] = (g, v) if key not in out else (g, _plus(out[key][1], v))
    return out


def evaluate_expr(expr: Expr, series: Sequence[tuple[dict[str, str], Points]], now: float) -> Values:
    out: Values = {}
    for labels, points in series:
        if all_match(expr.match, labels):
            out[canonical_labels(labels)] = (dict(labels), reduce(points, expr.agg, expr.window, now))
    return group(out, expr.by)


def _sum(parts: list[Values]) -> Values:
    out: Values = dict(parts[0])
    for p in parts[1:]:
        out = {k: (lab, _plus(v, p[k][1])) for k, (lab, v) in out.items() if k in p}
    return out


def ratio(num: Values, den: Values) -> Values:
    """Joined on identical label sets; x/0 is undefined (NaN), not an alert."""
    out: Values = {}
    for k, (labels, n) in num.items():
        if k not in den:
            continue
        d = den[k][1]
        if n is None or d is None:
            out[k] = (labels, None)
        elif d == 0 or math.isnan(d) or math.isnan(n):
            out[k] = (labels, NAN)
        else:
            out[k] = (labels, n / d)
    return out


def fetch(source: SampleSource, expr: Expr, now: float) -> list[tuple[dict[str, str], Points]]:
    """Reads through the store's public ``raw``; exact matchers are applied by the store."""
    got = source.raw(expr.metric, exact(expr.match) or None, now - expr.window, now)
    return [(dict(sp.series.labels), list(sp.points)) for sp in got]


def rule_values(rule: Rule, source: SampleSource, now: float) -> Values:
    if rule.expr is not None:
        return evaluate_expr(rule.expr, fetch(source, rule.expr, now), now)
    assert rule.ratio is not None
    num, den = rule.ratio.parts()
    nv = _sum([evaluate_expr(e, fetch(source, e, now), now) for e in num])
    dv = _sum([evaluate_expr(e, fetch(source, e, now), now) for e in den])
    return ratio(nv, dv)
