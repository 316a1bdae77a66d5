"""The claims report's numbers, read from the store over the report's period.

Compliance and budget are measured over [now - since, now] with the same SLI
readings the promise's evaluation uses (promises/sli.py), not over the
promise's 30-day compliance window: a report for last week says what last
week delivered. Incidents come from the alert history of ``promise_<id>``;
the other alerts' incidents are listed apart.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from core.durations import format_duration
from core.units import format_value
from promises import burn, sli
from promises.config import Promise, PromisesConfig, Selector
from report import history
from report.model import Hour, Incident, PromiseReport, Report
from store import Store

HOUR = 3600.0
MIN_SINCE = HOUR
CHART_POINTS = 300
# The store's grid gives hour-wide buckets only for spans of 59 hours or more (store/aggregate.py
# make_grid): shorter periods read a longer span and keep the hours that touch the period.
HOURLY_SPAN = 60 * HOUR


def build(promises: PromisesConfig, store: Store, now: float, since: float) -> Report:
    """The report of every active promise over the ``since`` seconds before ``now``."""
    if since < MIN_SINCE:
        raise ValueError(f"since must be at least {format_duration(MIN_SINCE)}")
    start = now - since
    found, note = history.read(store.engine, start, now)
    mine = {p.alert_name for p in promises.active}
    reports = [promise_report(p, store, start, now, [e for e in found if e.rule == p.alert_name])
               for p in promises.active]
    others = [_other(e) for e in found if e.rule not in mine]
    return Report(start=start, end=now, since=since, promises=reports, others=others, history_note=note)


def higher_is_worse(p: Promise) -> bool:
    return (p.threshold is not None and p.threshold.op in ("<", "<=")) or p.shows_bad


def sli_text(p: Promise) -> str:
    if p.events is not None:
        metrics = ", ".join(sorted({s.metric for s in p.events.total}))
        return f"{'good' if p.events.good else 'bad'} events / all events of {metrics}"
    th = p.threshold
    assert th is not None
    what = {"mean": "mean", "quantile": f"p{th.quantile * 100:g}", "ratio": "ratio"}[th.measure]
    return f"{what} {th.op} {format_value(th.value, p.unit)}, share of time"


def promise_report(p: Promise, store: Store, start: float, end: float,
                   found: Sequence[history.Episode]) -> PromiseReport:
    since = end - start
    if p.events is not None:
        reading, value = sli.events(p.events, store, end, since)
        seen_what = "events"
        line, label = p.line, f"objective {p.line_text()}"
    else:
        assert p.threshold is not None
        reading, value = sli.threshold(p.threshold, store, end, since)
        seen_what = f"slices of {format_duration(round(since / sli.slices_for(since)))}"
        line, label = p.threshold.value, f"bound {p.threshold.op} {format_value(p.threshold.value, p.unit)}"
    series = sli.series(p.events, p.threshold, store, start, end, CHART_POINTS)
    bad_worse = higher_is_worse(p)
    incidents = [_promise_incident(p, e, series, end, bad_worse) for e in found]
    return PromiseReport(
        id=p.id, title=p.title, description=p.description, unit=p.unit, objective=p.objective, sli=sli_text(p),
        compliance=None if reading.bad is None else 1.0 - reading.bad,
        budget_left=burn.budget_left(reading.bad, p.objective), value=value, seen=reading.seen,
        seen_what=seen_what, worst_hour=worst_hour(p, store, start, end), incidents=incidents, series=series,
        line=line, line_label=label, reason=None if reading.bad is not None else _why_empty(p, reading))


def _promise_incident(p: Promise, e: history.Episode, series: Sequence[tuple[float, float]], end: float,
                      bad_worse: bool) -> Incident:
    lo = e.start if e.start is not None else -math.inf
    hi = e.end if e.end is not None else end
    # Every bucket that overlaps the incident, so one shorter than a bucket still finds its own.
    width = min((b[0] - a[0] for a, b in zip(series, series[1:], strict=False)), default=0.0)
    during = [v for ts, v in series if ts <= hi and ts + width > lo]
    # The chart's buckets show the SLI through the incident; the transitions' values are a fallback.
    worst = history.peak(during or [v for _, v in e.values], bad_worse)
    return Incident(e.rule, e.key, e.labels, e.start, e.end, e.severity, worst, p.unit)


def _other(e: history.Episode) -> Incident:
    return Incident(e.rule, e.key, e.labels, e.start, e.end, e.severity, e.severity_value,
                    str(e.thresholds.get("unit") or "none"))


def _why_empty(p: Promise, reading: burn.Reading) -> str:
    if p.events is not None and reading.series:
        return f"too few events to judge ({reading.seen:.0f}, need {p.events.min_events:g})"
    return f"no samples of {', '.join(sorted(p.metrics()))}"


# -- the worst hour ------------------------------------------------------------------------------
def worst_hour(p: Promise, store: Store, start: float, end: float) -> Hour | None:
    """The clock hour touching the period whose SLI is lowest (or whose value is worst)."""
    first = math.floor(start / HOUR) * HOUR
    qend = math.ceil(end / HOUR) * HOUR
    hours = max(round((qend - first) / HOUR), round(HOURLY_SPAN / HOUR))
    qstart = qend - hours * HOUR  # on an hour boundary, so the buckets are clock hours
    if p.events is not None:
        shares = _hourly_shares(p, store, qstart, qend, hours + 1)
        kept = [(ts, share, n) for ts, (share, n) in shares.items() if ts >= first and n >= p.events.min_events]
        if not kept:
            return None
        ts, share, n = min(kept, key=lambda h: (h[1], h[0]))
        return Hour(ts, share, n)
    assert p.threshold is not None
    measured = {ts: v for ts, v in sli.measured(p.threshold, store, qstart, qend, hours + 1).items() if ts >= first}
    if not measured:
        return None
    sign = -1.0 if higher_is_worse(p) else 1.0
    ts, v = min(measured.items(), key=lambda h: (sign * h[1], h[0]))
    return Hour(ts, v)


def _hourly_shares(p: Promise, store: Store, start: float, end: float, points: int) -> dict[float, tuple[float, float]]:
    """Hour start -> (good share, events in the hour)."""
    ev = p.events
    assert ev is not None
    total = _events_by_hour(store, ev.total, start, end, points)
    part = _events_by_hour(store, ev.good or ev.bad, start, end, points)
    out = {}
    for ts, n in total.items():
        if n > 0:
            share = min(max(part.get(ts, 0.0) / n, 0.0), 1.0)
            out[ts] = (share if ev.good else 1.0 - share, n)
    return out


def _events_by_hour(store: Store, sels: Sequence[Selector], start: float, end: float,
                    points: int) -> dict[float, float]:
    out: dict[float, float] = {}
    for sel in sels:
        for r in store.query_range(sel.metric, None, start, end, points, "rate"):
            if sel.matches(r.series.labels):
                for b in r.points:
                    out[b.ts] = out.get(b.ts, 0.0) + b.avg * HOUR  # rate per second -> events in the hour
    return out

