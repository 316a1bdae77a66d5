"""The one place the dashboard asks the store (and the alert engine) for data.

A page's refresh callback builds one :class:`Fetch` for its view and reads
everything through it; reads are memoised per Fetch, so one query feeds every
figure that needs it (the overview's health grid and scorecard share
``lookout_target_up``). Ranges are bucketed in SQL by ``Store.query_range``
(at most ``points`` buckets, min/max kept), never resampled here.

The helpers below are pure functions over the store's value types, so they
are tested without a browser or a database.
"""
from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from dashboards.config import DashboardsConfig, Selector
from dashboards.timerange import View
from store import Bucket, Document, SeriesRange, TargetStatus

log = logging.getLogger("lookout.dashboards")

MAX_POINTS = 1000


@dataclass
class Line:
    """One drawable series: x in epoch milliseconds, None where data is missing."""

    name: str
    x: list[int] = field(default_factory=list)
    y: list[float | None] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)

    def values(self) -> list[float]:
        return [v for v in self.y if v is not None]


@dataclass(frozen=True)
class Transition:
    ts: float
    rule: str
    state: str
    severity: str | None


def dashboards_config(config: Any) -> DashboardsConfig:
    """The ``dashboards:`` section, or the defaults until Config has the field."""
    section = getattr(config, "dashboards", None)
    return section if isinstance(section, DashboardsConfig) else DashboardsConfig()


class Fetch:
    """The reads behind one refresh of one page, memoised."""

    def __init__(self, runtime: Any, view: View, points: int | None = None) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.view = view
        self.cfg = dashboards_config(runtime.config)
        self.points = min(points or self.cfg.points, MAX_POINTS)
        self._memo: dict[tuple, Any] = {}

    def _once(self, key: tuple, load: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = load()
        return self._memo[key]

    # -- store reads -----------------------------------------------------------
    def ranges(self, metric: str, mode: str = "value", matchers: Mapping[str, str] | None = None,
               *, start: float | None = None, end: float | None = None, points: int | None = None
               ) -> list[SeriesRange]:
        start = self.view.start if start is None else start
        end = self.view.end if end is None else end
        pts = min(points or self.points, MAX_POINTS)
        if mode != "rate":
            # Buckets narrower than a poll would be every-other empty: dotted lines, not data.
            # Long views use buckets the rollup tables answer directly (1-hour rows past 3 days).
            floor = max(self.sample_interval(), min_width(end - start))
            pts = max(min(pts, int((end - start) / floor)), 10)
        key = ("range", metric, mode, tuple(sorted((matchers or {}).items())), start, end, pts)
        if mode != "rate":
            return self._once(key, lambda: self.store.query_range(metric, dict(matchers or {}), start, end,
                                                                  points=pts, mode=mode))

        def load_rate() -> list[SeriesRange]:
            # One extra bucket before the view: the first sample of a query has no
            # predecessor, so its bucket under-counts; that bucket is then dropped.
            p = rate_points(end - start, self.sample_interval(), pts, min_width(end - start))
            w = grid_width(end - start, p)
            got = self.store.query_range(metric, dict(matchers or {}), start - w, end, points=p + 1, mode="rate")
            iv = self.sample_interval()
            return [SeriesRange(r.series, [_whole(b, w, end, iv) if k == len(r.points) - 1 else b
                                           for k, b in enumerate(r.points) if b.ts + w > start]) for r in got]
        return self._once(key, load_rate)

    def selected(self, sel: Selector, mode: str = "value", **kw: Any) -> list[SeriesRange]:
        """``ranges`` of the selector's metric, kept to series whose labels fully match its regexes."""
        return [r for r in self.ranges(sel.metric, mode, **kw) if label_match(r.series.labels, sel.match)]

    def latest(self, metric: str, matchers: Mapping[str, str] | None = None) -> list[tuple[Any, float, float]]:
        key = ("latest", metric, tuple(sorted((matchers or {}).items())))
        return self._once(key, lambda: self.store.latest(metric, dict(matchers or {})))

    def status(self) -> dict[str, TargetStatus]:
        return self._once(("status",), lambda: {s.target: s for s in self.store.target_status()})

    def documents(self, key: str) -> list[Document]:
        return self._once(("doc", key), lambda: self.store.documents(key=key))

    def names(self) -> set[str]:
        return self._once(("names",), lambda: set(self.store.metric_names()))

    def sample_interval(self) -> float:
        """The slowest target's interval: a rate bucket must hold whole polls of every target."""
        return max((float(t.interval) for t in self.targets()), default=15.0)

    # -- config ------------------------------------------------------------------
    def targets(self, kind: str | None = None) -> list[Any]:
        return [t for t in self.runtime.config.targets if kind is None or t.kind == kind]

    def why_missing(self, kinds: Sequence[str], metric: str | None = None, what: str = "") -> str | None:
        """Why a panel has nothing to draw, in words; None when its metric has data."""
        if metric is not None and metric in self.names():
            return None
        targets = [t for k in kinds for t in self.targets(k)]
        if not targets:
            return f"no {' or '.join(kinds)} target configured"
        status = self.status()
        down = [f"{t.name} is down: {status[t.name].last_error or 'no error text'}"
                for t in targets if t.name in status and not status[t.name].up]
        if down:
            return "; ".join(down)
        never = [t.name for t in targets if t.name not in status]
        if len(never) == len(targets):
            return f"{', '.join(never)} not collected yet"
        return f"{what or metric} is not reported by {', '.join(t.name for t in targets)}"

    # -- alerting (optional until the alert engine lands) --------------------------
    def thresholds(self, objective_id: str, metrics: Sequence[str] = ()) -> tuple[float | None, float | None]:
        """(warning, critical) for a panel: from the alert rule on its metric when
        alerting is configured, else from the scorecard objective of that id."""
        alerting = getattr(self.runtime.config, "alerting", None)
        for rule in getattr(alerting, "rules", None) or []:
            try:
                if set(metrics) & set(rule.metrics()):
                    return rule.warning, rule.critical
            except AttributeError:
                break
        obj = self.cfg.objective(objective_id)
        if obj is None:
            return None, None
        return obj.warning, obj.target

    def alerting(self) -> Any:
        """The ``alerting:`` config section, or None when no alert rule is configured."""
        section = getattr(self.runtime.config, "alerting", None)
        return section if section is not None and getattr(section, "rules", None) else None

    def alerts(self) -> list[dict[str, Any]]:
        """Open alert instances (pending, firing, stale, flapping) from the engine's state table."""
        def load() -> list[dict[str, Any]]:
            if self.alerting() is None:
                return []
            try:
                from alerts.state_store import load_all
            except ImportError:
                return []
            try:
                with self.store.engine.connect() as conn:
                    stored = load_all(conn)
            except SQLAlchemyError:
                log.exception("reading alert state failed (alert tables not migrated?)")
                return []
            out = []
            for st in stored.values():
                s = st.state
                if s.state == "ok":
                    continue
                out.append({"id": st.id, "rule": st.rule, "labels": dict(st.series_labels), "state": s.state,
                            "severity": s.severity, "value": s.value, "firing_since": s.firing_since,
                            "pending_since": s.pending_since, "last_change": s.last_change,
                            "silenced_by": st.silenced_by, "suppressed_by": st.suppressed_by,
                            "muted_reason": st.muted_reason, "acked_by": st.acked_by, "acked_at": st.acked_at})
            rank = {"critical": 0, "warning": 1}
            out.sort(key=lambda a: (a["state"] != "firing", rank.get(a["severity"] or "", 2), a["rule"]))
            return out
        return self._once(("alerts",), load)

    def silences(self, include_expired: bool = True) -> list[dict[str, Any]]:
        def load() -> list[dict[str, Any]]:
            if self.alerting() is None:
                return []
            from alerts.silences import list_silences
            now = self.runtime.clock()
            try:
                with self.store.engine.connect() as conn:
                    return [s.as_json(now) for s in list_silences(conn, include_expired, now)]
            except SQLAlchemyError:
                log.exception("reading silences failed (alert tables not migrated?)")
                return []
        return self._once(("silences", include_expired), load)

    def transitions(self) -> list[Transition]:
        """Alert state changes inside the view, for marks on every time axis."""
        def load() -> list[Transition]:
            if self.alerting() is None:
                return []
            try:
                from alerts.schema import alert_transitions as t
            except ImportError:
                return []
            # The engine has no read function for a time window yet; its schema
            # module is public, so read the table with Core here, in one place.
            q = (select(t.c.at, t.c.rule, t.c.to_state, t.c.to_severity)
                 .where(t.c.at >= self.view.start, t.c.at <= self.view.end).order_by(t.c.at).limit(500))
            try:
                with self.store.engine.connect() as conn:
                    return [Transition(float(at), rule, state, sev) for at, rule, state, sev in conn.execute(q)]
            except SQLAlchemyError:
                log.exception("reading alert transitions failed")
                return []
        return self._once(("transitions",), load)

    def outbox(self) -> list[dict[str, Any]]:
        notifier = self.runtime.extras.get("notifier")
        if notifier is None:
            return []
        return self._once(("outbox",), lambda: notifier.outbox_rows(limit=50))

    def down_spans(self, targets: Iterable[str]) -> list[tuple[float, float, str]]:
        """Spans (start, end, target) where a target reported up=0, from bucket minimums."""
        wanted = set(targets)
        out = []
        for r in self.ranges("lookout_target_up"):
            name = r.series.labels.get("target", "")
            if name in wanted:
                out.extend((a, b, name) for a, b in spans_where(r, lambda b: b.min < 0.5))
        return out


# -- pure helpers ---------------------------------------------------------------

def _whole(b: Bucket, width: float, end: float, interval: float) -> Bucket:
    """A series' newest bucket is cut short by now (or by its next poll, not
    yet arrived): its increase spread over the whole width would read low.
    Recent data is raw, so its samples are polls: the increase over
    (steps x interval) is the rate."""
    if b.ts + 2 * width <= end or b.count < 1:
        return b
    r = b.avg * width / (b.count * interval)
    return Bucket(b.ts, r, r, r, r, b.count)


def grid_width(span: float, points: int) -> float:
    """The bucket width ``Store.query_range`` uses for ``points`` over ``span`` (seconds).

    Mirrors the store's documented rounding (whole seconds, minutes from a
    minute, hours from an hour, plus one unit of alignment slack);
    tests/dashboards/test_data.py checks it against the store.
    """
    points = max(points, 1)
    naive = span / points
    unit = 3600.0 if naive >= 3600 else 60.0 if naive >= 60 else 1.0
    return max(math.ceil((span + unit) / points / unit), 1) * unit


def min_width(span: float) -> float:
    """The narrowest bucket worth asking for: past 3 days, hourly rollup rows
    (168 points a week) instead of scanning 10,000 minute rows per series."""
    return 3600.0 if span > 3 * 86400 else 60.0 if span > 6 * 3600 else 0.0


def rate_points(span: float, interval: float, max_points: int, floor: float = 0.0) -> int:
    """Points for a rate query whose buckets are whole multiples of the poll interval.

    A counter's increase lands in the bucket of the sample that shows it; a
    10-second bucket over 15-second polls is empty or holds 1.5x the rate, so
    buckets are at least two polls wide and an exact multiple of the interval.
    """
    interval = max(interval, 1.0)
    want = max(2 * interval, span / max(max_points, 1), floor)
    k = math.ceil(want / interval)
    while k < 100_000:
        w = k * interval
        unit = 3600.0 if w >= 3600 else 60.0 if w >= 60 else 1.0
        if w % unit == 0:
            p = math.ceil((span + unit) / w)  # the most buckets whose grid width is exactly w
            if p <= max_points and grid_width(span, p) == w:
                return p
        k += 1
    return max(1, min(max_points, int(span // (2 * interval)) or 1))


def label_match(labels: Mapping[str, str], match: Mapping[str, str]) -> bool:
    return all(re.fullmatch(rx, labels.get(k, "")) is not None for k, rx in match.items())


def bucket_width(points: Sequence[Any]) -> float:
    """Bucket width in seconds, from the smallest step between consecutive buckets."""
    steps = [b.ts - a.ts for a, b in pairwise(points) if b.ts > a.ts]
    return min(steps) if steps else 0.0


def sig(v: float | None, digits: int = 5) -> float | None:
    """Round to significant digits: smaller JSON, no visible difference."""
    if v is None or not math.isfinite(v):
        return None
    return float(f"{v:.{digits}g}")


GAP_POLLS = 2.5  # this many poll intervals without a sample is a gap


def with_gaps(pairs: Sequence[tuple[float, float | None]], width: float,
              interval: float = 15.0) -> tuple[list[int], list[float | None]]:
    """Insert a None wherever buckets are missing, so a down target is a gap, not a line across it.

    One empty bucket between two polls (buckets barely wider than the poll
    interval) is aliasing, not an outage: a gap needs ``GAP_POLLS`` intervals.
    """
    xs: list[int] = []
    ys: list[float | None] = []
    prev = None
    limit = max(1.5 * width, GAP_POLLS * interval)
    for ts, v in pairs:
        if prev is not None and width > 0 and ts - prev > limit:
            xs.append(int((prev + width) * 1000))
            ys.append(None)
        xs.append(int(ts * 1000))
        ys.append(sig(v))
        prev = ts
    return xs, ys


def line(r: SeriesRange, pick: str = "avg", name: str | None = None, scale: float = 1.0) -> Line:
    pairs = [(b.ts, getattr(b, pick) * scale) for b in r.points]
    xs, ys = with_gaps(pairs, bucket_width(r.points))
    return Line(name or series_name(r.series.labels), xs, ys, dict(r.series.labels))


def series_name(labels: Mapping[str, str], drop: Iterable[str] = ("kind",)) -> str:
    skip = set(drop)
    parts = [v for k, v in sorted(labels.items()) if k not in skip]
    return " ".join(parts) or "value"


def sum_by_ts(ranges: Iterable[SeriesRange], pick: str = "avg") -> dict[float, float]:
    out: dict[float, float] = defaultdict(float)
    for r in ranges:
        for b in r.points:
            out[b.ts] += getattr(b, pick)
    return dict(out)


def group_sum(ranges: Iterable[SeriesRange], label: str, pick: str = "avg") -> dict[str, dict[float, float]]:
    groups: dict[str, list[SeriesRange]] = defaultdict(list)
    for r in ranges:
        groups[r.series.labels.get(label, "")].append(r)
    return {k: sum_by_ts(v, pick) for k, v in groups.items()}


def ratio_series(num: Mapping[float, float], den: Mapping[float, float]) -> list[tuple[float, float | None]]:
    """num/den per bucket; a bucket with no denominator is a gap, not a zero."""
    return [(ts, (num.get(ts, 0.0) / d) if d else None) for ts, d in sorted(den.items())]


def pairs_line(name: str, pairs: Sequence[tuple[float, float | None]], width: float | None = None,
               scale: float = 1.0) -> Line:
    if width is None:
        ts = [p[0] for p in pairs]
        steps = [b - a for a, b in pairwise(ts) if b > a]
        width = min(steps) if steps else 0.0
    xs, ys = with_gaps([(t, None if v is None else v * scale) for t, v in pairs], width)
    return Line(name, xs, ys)


def total_increase(ranges: Iterable[SeriesRange]) -> float:
    """Sum of increases from rate buckets: rate x bucket width, bucket by bucket."""
    total = 0.0
    for r in ranges:
        w = bucket_width(r.points)
        total += sum(b.avg * w for b in r.points) if w else 0.0
    return total


def weighted_mean(ranges: Iterable[SeriesRange]) -> float | None:
    num = den = 0.0
    for r in ranges:
        for b in r.points:
            num += b.avg * b.count
            den += b.count
    return num / den if den else None


def histogram_quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """Prometheus' histogram_quantile over cumulative ``le`` counts (or rates)."""
    items = sorted(buckets.items())
    if not items or items[-1][1] <= 0:
        return None
    total = items[-1][1]
    rank = q * total
    prev_le, prev_c = 0.0, 0.0
    for le, c in items:
        if c >= rank:
            if math.isinf(le):
                return prev_le
            if c == prev_c:
                return le
            return prev_le + (le - prev_le) * (rank - prev_c) / (c - prev_c)
        prev_le, prev_c = le, c
    return items[-1][0]


def quantile_by_ts(ranges: Iterable[SeriesRange], q: float, group: str | None = None
                   ) -> dict[str, list[tuple[float, float | None]]]:
    """Per group (a label's value, or one group) and bucket: the histogram quantile of bucket rates."""
    acc: dict[str, dict[float, dict[float, float]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))
    for r in ranges:
        try:
            le = float(r.series.labels.get("le", "nan"))
        except ValueError:
            continue
        if math.isnan(le):
            continue
        g = r.series.labels.get(group, "") if group else ""
        for b in r.points:
            acc[g][b.ts][le] += b.avg
    return {g: [(ts, histogram_quantile(q, les)) for ts, les in sorted(per_ts.items())]
            for g, per_ts in acc.items()}


def overall_quantile(ranges: Iterable[SeriesRange], q: float) -> float | None:
    les: dict[float, float] = defaultdict(float)
    for r in ranges:
        try:
            le = float(r.series.labels.get("le", "nan"))
        except ValueError:
            continue
        w = bucket_width(r.points)
        les[le] += sum(b.avg * w for b in r.points) if w else sum(b.avg for b in r.points)
    return histogram_quantile(q, {k: v for k, v in les.items() if not math.isnan(k)})


def spans_where(r: SeriesRange, pred: Callable[[Any], bool]) -> list[tuple[float, float]]:
    width = bucket_width(r.points) or 15.0
    out: list[tuple[float, float]] = []
    for b in r.points:
        if pred(b):
            if out and b.ts - out[-1][1] <= width * 0.5:
                out[-1] = (out[-1][0], b.ts + width)
            else:
                out.append((b.ts, b.ts + width))
    return out


def doc_rows(docs: Sequence[Document], limit: int = 50) -> list[dict[str, Any]]:
    """Rows of list documents (top statements, sessions...) from every target, with the target."""
    rows: list[dict[str, Any]] = []
    for d in docs:
        body = d.body.get("rows", d.body.get("items")) if isinstance(d.body, dict) else d.body
        if isinstance(body, list):
            rows.extend({"target": d.target, **row} for row in body if isinstance(row, dict))
    return rows[:limit]
