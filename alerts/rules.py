"""Series selection and reduction: a rule's expression -> one value per series.

``reduce`` is pure (points, aggregation, window, now) -> value. Two special
results: ``None`` means no data (the series is stale); NaN means the
series is alive but the value is undefined this time (one point of a
counter, a ratio over zero traffic, an empty window on a live series) --
evaluation keeps the state then.

When is a series stale? Not merely when the rule's window is empty: a
window as short as the target's interval (or a little longer) is empty
after one late or skipped collection -- scheduler jitter, a slow poll, a
busy machine -- and that would page "NO DATA" and then "RESOLVED" for a
healthy target. A series is stale only when its newest sample is older than
both the window and ``STALE_INTERVALS`` of its target's collection interval
(known from config through the ``target`` label), like Prometheus' lookback
for absent series. Between the two an empty window is NaN: state kept.
Samples stamped after ``now`` count as alive too: a collection that started
after the evaluation read its clock (or a worker whose clock runs ahead) may
have written a new series' first sample before the evaluation read it.

Too little evidence is NaN as well (issue 15, "no page for nothing"): an
aggregation over the window (anything but ``last``) is undefined until the
series' samples in the window reach back ``min_coverage`` of it and number at
least ``min_samples``. At start, the first sample of a series is not a
5-minute average, and the first two payments are not a failure ratio: the
alert keeps its state (ok) instead of going pending on a sliver of the window.
A counter (``rate``, ``increase``) that dropped was reset -- its server
restarted, its stats were reset -- and only its samples since the newest
reset count: the value right after a reset holds an unknown stretch, often a
cold start (a restarted cache misses everything), so reading it as the
window's increase made a 0 % hit ratio one second after a restart. Coverage
then counts from the first sample after the reset.

An expression with ``only_if: METRIC`` keeps only the series of targets whose
METRIC is non-zero at its newest sample; the others have no alert instance
(``pg_replication_lag_seconds`` only where ``pg_replication_is_replica``).

A series that stops reporting inside a ``by`` group is no data for the whole
group unless its expression says ``absent: zero``: then it counts as 0 while
any series of the group still reports (a state with no sessions left, a pool
with no waiting clients), as Prometheus' ``sum by`` ignores absent series.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from alerts.config import Expr, Rule
from alerts.matchers import all_match, exact
from store.types import canonical_labels

NAN = float("nan")
# Missed collections before a series is stale: 3 intervals tolerate one late or
# skipped run (with jitter and the poll's own duration); two in a row is no data.
STALE_INTERVALS = 3.0
Points = Sequence[tuple[float, float]]
Values = dict[str, tuple[dict[str, str], float | None]]  # canonical labels -> (labels, value)


class SampleSource(Protocol):
    def raw(self, name: str, matchers: Mapping[str, str] | None, start: float,
            end: float) -> list[Any]: ...


COUNTERS = ("rate", "increase")


def since_reset(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The samples since the newest counter reset (a drop) among ``pts``."""
    start = 0
    for i in range(1, len(pts)):
        if pts[i][1] < pts[i - 1][1]:
            start = i
    return pts[start:]


def reduce(points: Points, agg: str, window: float, now: float, stale_after: float = 0.0,
           min_coverage: float = 0.0, min_samples: int = 1) -> float | None:
    """``stale_after``: age of the newest sample past which an empty window is no data (None).

    ``min_coverage``, ``min_samples``: too little evidence is NaN (see the module docstring);
    ``last`` needs one sample whatever they say.
    """
    pts = [(t, v) for t, v in points if now - window < t <= now]
    if not pts:
        alive = any(t > now - max(window, stale_after) for t, _ in points)  # incl. after now
        return NAN if alive else None
    if agg in COUNTERS:
        pts = since_reset(pts)
    if agg != "last" and (len(pts) < min_samples or now - pts[0][0] < min_coverage * window):
        return NAN
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
    inc = vals[-1] - vals[0]  # no reset in pts: since_reset above
    if agg == "increase":
        return inc
    if agg == "rate":
        return inc / (pts[-1][0] - pts[0][0])
    raise ValueError(f"unknown aggregation {agg!r}")


def _plus(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return a + b


def group(values: Values, by: list[str] | None, absent_zero: bool = False) -> Values:
    """Sums per ``by`` label set. A stale member (None) makes its group no data, unless
    ``absent_zero``: then it counts as 0 while another member still reports."""
    if by is None:
        return values
    out: Values = {}
    for labels, v in values.values():
        g = {k: labels[k] for k in by if k in labels}
        key = canonical_labels(g)
        if key not in out:
            out[key] = (g, v)
        elif absent_zero and (v is None or out[key][1] is None):
            out[key] = (g, _present_sum(out[key][1], v))
        else:
            out[key] = (g, _plus(out[key][1], v))
    return out


def _present_sum(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else a + b


def stale_after(labels: Mapping[str, str], intervals: Mapping[str, float] | None) -> float:
    """How old a series' newest sample may be before it is no data, beyond the rule window."""
    interval = (intervals or {}).get(labels.get("target", ""))
    return STALE_INTERVALS * interval if interval else 0.0


def evaluate_expr(expr: Expr, series: Sequence[tuple[dict[str, str], Points]], now: float,
                  intervals: Mapping[str, float] | None = None) -> Values:
    """``intervals``: target name -> collection interval, for :func:`stale_after`."""
    out: Values = {}
    for labels, points in series:
        if all_match(expr.match, labels):
            value = reduce(points, expr.agg, expr.window, now, stale_after(labels, intervals),
                           expr.min_coverage, expr.min_samples)
            out[canonical_labels(labels)] = (dict(labels), value)
    return group(out, expr.by, expr.absent == "zero")


def _sum(parts: list[Values]) -> Values:
    out: Values = dict(parts[0])
    for p in parts[1:]:
        out = {k: (lab, _plus(v, p[k][1])) for k, (lab, v) in out.items() if k in p}
    return out


def ratio(num: Values, den: Values, min_den: float = 0.0) -> Values:
    """Joined on identical label sets; x/0, or x/d with d < ``min_den``, is undefined (NaN),
    not an alert: too little traffic to tell."""
    out: Values = {}
    for k, (labels, n) in num.items():
        if k not in den:
            continue
        d = den[k][1]
        if n is None or d is None:
            out[k] = (labels, None)
        elif d == 0 or d < min_den or math.isnan(d) or math.isnan(n):
            out[k] = (labels, NAN)
        else:
            out[k] = (labels, n / d)
    return out


def fetch(source: SampleSource, expr: Expr, now: float,
          intervals: Mapping[str, float] | None = None) -> list[tuple[dict[str, str], Points]]:
    """Reads through the store's public ``raw``; exact matchers are applied by the store.

    Reads back far enough to tell a late series from a stale one (see :func:`stale_after`),
    and past ``now``: samples stamped after it prove a series alive, never stale.
    """
    back = max([expr.window] + [STALE_INTERVALS * i for i in (intervals or {}).values()])
    got = source.raw(expr.metric, exact(expr.match) or None, now - back, now + back)
    series: list[tuple[dict[str, str], Points]] = [(dict(sp.series.labels), list(sp.points)) for sp in got]
    if expr.only_if is None:
        return series
    # The gate: only the targets whose only_if series says non-zero at its newest sample (a replica).
    # Its other series are left out, not no data: a primary has no replication lag alert at all.
    on = {sp.series.labels.get("target", "") for sp in source.raw(expr.only_if, None, now - back, now + back)
          if sp.points and sp.points[-1][1] != 0}
    return [(labels, pts) for labels, pts in series if labels.get("target", "") in on]


def rule_values(rule: Rule, source: SampleSource, now: float,
                intervals: Mapping[str, float] | None = None) -> Values:
    """``intervals``: target name -> collection interval (from config); without it an
    empty window is no data, whatever the target's interval."""
    def values(e: Expr) -> Values:
        return evaluate_expr(e, fetch(source, e, now, intervals), now, intervals)

    if rule.expr is not None:
        return values(rule.expr)
    assert rule.ratio is not None
    num, den = rule.ratio.parts()
    return ratio(_sum([values(e) for e in num]), _sum([values(e) for e in den]), rule.ratio.min_denominator)
