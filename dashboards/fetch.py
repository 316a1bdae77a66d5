"""The one place the dashboard asks the store (and alerts.queries) for data.

A page's refresh callback builds one :class:`Fetch` for its view and reads
everything through it; reads are memoised per Fetch, so one query feeds every
figure that needs it (the overview's health grid and promise cards share
``lookout_target_up``). Ranges are bucketed in SQL on an epoch-aligned grid
(at most ``points`` buckets, min/max kept), never resampled here, and the
buckets that can no longer change are kept between refreshes by the
process's :mod:`dashboards.bucket_cache`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from alerts import queries as alert_queries
from alerts.config import AlertingConfig
from alerts.queries import OpenAlert
from core.targets import TargetBase
from core.units import unit_for_metric
from dashboards import bucket_cache
from dashboards.context import DashboardRuntime
from dashboards.grid import aligned_grid, grid_width, min_width, rate_points, whole_bucket
from dashboards.series import spans_where
from dashboards.timerange import View
from promises.config import Promise
from store import Document, SeriesRange, TargetStatus
from store import query as store_query
from store.types import to_ms

TARGET_UP = "lookout_target_up"
log = logging.getLogger("lookout.dashboards")

MAX_POINTS = 1000
T = TypeVar("T")


@dataclass(frozen=True)
class Transition:
    """An alert's change of state, as the time axes mark it.

    ``key`` tells one series' alert from another's of the same rule; ``from_state``
    says whether it was firing before (a band that began before the view);
    ``carried`` marks the stand-in for an alert firing since before the view began,
    with no change inside it.
    """

    ts: float
    rule: str
    state: str
    severity: str | None
    key: str = ""
    from_state: str | None = None
    carried: bool = False


def _alert_row(a: OpenAlert) -> dict[str, Any]:
    """An open alert as the pages' tables show it (``labels``: the series' own)."""
    return {"id": a.id, "rule": a.rule, "labels": dict(a.series_labels), "state": a.state,
            "summary": a.annotations.get("summary", ""), "annotations": a.annotations,
            "severity": a.severity, "value": a.value, "firing_since": a.firing_since, "started_at": a.started_at,
            "pending_since": a.pending_since, "last_change": a.last_change, "silenced_by": a.silenced_by,
            "suppressed_by": a.suppressed_by, "muted_reason": a.muted_reason, "acked_by": a.acked_by,
            "acked_at": a.acked_at}


class Fetch:
    """The reads behind one refresh of one page, memoised."""

    def __init__(self, runtime: DashboardRuntime, view: View, points: int | None = None) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.view = view
        self.cfg = runtime.config.dashboards
        self.points = min(points or self.cfg.points, MAX_POINTS)
        self.cache = bucket_cache.for_runtime(runtime)
        self._memo: dict[tuple[Any, ...], Any] = {}

    def _once(self, key: tuple[Any, ...], load: Callable[[], T]) -> T:
        if key not in self._memo:
            self._memo[key] = load()
        return self._memo[key]

    # -- store reads -----------------------------------------------------------
    def ranges(self, metric: str, mode: str = "value", matchers: Mapping[str, str] | None = None,
               *, start: float | None = None, end: float | None = None, points: int | None = None
               ) -> list[SeriesRange]:
        start = self.view.start if start is None else start
        end = self.view.end if end is None else end
        span = end - start
        w = self.bucket_seconds(span, mode, points)
        key = ("range", metric, mode, tuple(sorted((matchers or {}).items())), start, end, w)
        if mode != "rate":
            return self._once(key, lambda: self.cache.read(self.store, metric, dict(matchers or {}), mode,
                                                           aligned_grid(start, w), end, span, self._tables()))

        def load_rate() -> list[SeriesRange]:
            # One extra bucket before the view: the first sample of a query has no
            # predecessor, so its bucket under-counts; that bucket is then dropped.
            got = self.cache.read(self.store, metric, dict(matchers or {}), "rate", aligned_grid(start - w, w),
                                  end, span + w, self._tables())
            iv = self.sample_interval()
            return [SeriesRange(r.series, [whole_bucket(b, w, end, iv) if k == len(r.points) - 1 else b
                                           for k, b in enumerate(r.points) if b.ts + w > start]) for r in got]
        return self._once(key, load_rate)

    def _tables(self) -> dict[Any, tuple[int, int]]:
        """What each store table holds now (retention horizons, rollup watermarks): read once a refresh."""
        def load() -> dict[Any, tuple[int, int]]:
            with self.store.engine.connect() as conn:
                return store_query.availability(conn, to_ms(self.store.clock()), self.store.retention)
        return self._once(("tables",), load)

    def bucket_seconds(self, span: float, mode: str = "value", points: int | None = None) -> float:
        """The bucket width ``ranges`` uses over ``span`` seconds."""
        # Edges on epoch multiples of the width can add one bucket: keep the total within MAX_POINTS.
        pts = min(points or self.points, MAX_POINTS - 1)
        if mode == "rate":
            return grid_width(span, rate_points(span, self.sample_interval(), pts, min_width(span)))
        # Buckets narrower than a poll would be every-other empty: dotted lines, not data.
        # Long views use buckets the rollup tables answer directly (1-hour rows past 3 days).
        floor = max(self.sample_interval(), min_width(span))
        return grid_width(span, max(min(pts, int(span / floor)), 10))

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
    def targets(self, kind: str | None = None) -> list[TargetBase]:
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
        if metric is None and not what:
            return None  # a document-backed panel of a live target: empty means nothing to list
        return f"{what or metric} is not reported by {', '.join(t.name for t in targets)}"

    # -- alerting: read through alerts.queries, never the alert tables --------------
    def thresholds(self, promise_id: str, metrics: Sequence[str] = ()) -> tuple[float | None, float | None]:
        """(warning, critical) for a panel: from the alert rule on its metric when there is
        one, else the line of the promise of that id (its objective or bound) as critical."""
        for rule in self.runtime.config.alerting.rules:
            if set(metrics) & rule.metrics():
                return rule.warning, rule.critical
        p = self.promise(promise_id)
        return (None, None) if p is None else (None, p.line)

    def promise(self, promise_id: str) -> Promise | None:
        return next((p for p in self._promises() if p.id == promise_id), None)

    def rule_unit(self, rule: str) -> str:
        """The unit of an alert rule's value: its own ``unit:`` where it has one, else what its
        metrics' names declare (``_seconds``, ``_bytes``, ``_ratio``); a ratio of two like
        quantities (hits over lookups, connections over max_connections) is a ratio, seconds
        over calls are seconds."""
        found = next((r for r in self.runtime.config.alerting.rules if r.name == rule), None)
        if found is None:
            promise = next((p for p in self._promises() if p.alert_name == rule), None)
            return str(promise.unit) if promise is not None else "none"
        own = getattr(found, "unit", None)
        if isinstance(own, str) and own:
            return own
        if found.ratio is not None:
            num, den = found.ratio.parts()
            top = {unit_for_metric(e.metric) for e in num}
            bottom = {unit_for_metric(e.metric) for e in den}
            if len(top) == 1 and top <= {"seconds", "bytes"} and bottom <= {"count", "none"}:
                return top.pop()
            return "ratio"
        units = {unit_for_metric(m) for m in found.metrics()}
        return units.pop() if len(units) == 1 else "none"

    def alerting(self) -> AlertingConfig | None:
        """The ``alerting:`` config section, or None when no alert rule is configured."""
        section = self.runtime.config.alerting
        return section if section.rules else None

    def _read_alerting(self, what: str, read: Callable[[Engine], list[T]]) -> list[T]:
        """``read(db)`` through alerts.queries; nothing when no rule is configured or the read fails."""
        if self.alerting() is None:
            return []
        try:
            return read(self.store.engine)
        except SQLAlchemyError:
            log.exception("reading %s failed (alert tables not migrated?)", what)
            return []

    def alerts(self) -> list[dict[str, Any]]:
        """Open alert instances (pending, firing, stale, flapping): firing first, then by severity and rule."""
        def read(db: Engine) -> list[dict[str, Any]]:
            out = [{**_alert_row(a), "unit": self.rule_unit(a.rule)} for a in alert_queries.open_alerts(db)]
            rank = {"critical": 0, "warning": 1}
            out.sort(key=lambda a: (a["state"] != "firing", rank.get(a["severity"] or "", 2), a["rule"]))
            return out
        return self._once(("alerts",), lambda: self._read_alerting("alert state", read))

    def silences(self, include_expired: bool = True) -> list[dict[str, Any]]:
        now = self.runtime.clock()
        return self._once(("silences", include_expired), lambda: self._read_alerting(
            "silences", lambda db: [s.as_json(now) for s in alert_queries.list_silences(db, include_expired, now)]))

    def transitions(self, metrics: Iterable[str] | None = None) -> list[Transition]:
        """Alert state changes inside the view, for marks on the time axes, and a
        ``carried`` stand-in at the view's start for each alert firing since before it.

        ``metrics``: only the rules that read one of these (a panel's own metrics);
        without it, every rule's. A cache-stampede alert does not belong on the revenue
        charts, nor a pool alert on the database sizes. A target that is down is drawn
        from its ``lookout_target_up`` samples on the panels of its kind (``down_spans``),
        so the rules on that metric are not marked on every panel.
        """
        def read(db: Engine) -> list[Transition]:
            got = alert_queries.transitions_between(db, self.view.start, self.view.end, limit=500)
            return [Transition(c.at, c.rule, c.to_state, c.to_severity, c.alert_key, c.from_state) for c in got]
        every = self._once(("transitions",), lambda: self._read_alerting("alert transitions", read))
        carried = [Transition(self.view.start, a["rule"], a["state"], a["severity"], f"open-{a['id']}", a["state"],
                              carried=True)
                   for a in self.alerts() if a["state"] in ("firing", "flapping")
                   and (a["firing_since"] or self.view.start) < self.view.start]
        if metrics is None:
            return every + carried
        wanted = set(metrics)
        rules = {r.name for r in self.runtime.config.alerting.rules if r.metrics() & wanted}
        rules |= {p.alert_name for p in self._promises() if p.metrics() & wanted}
        return [t for t in every + carried if t.rule in rules]

    def _promises(self) -> list[Promise]:
        """The promises, whose burn-rate alerts (``promise_<id>``) run beside the rules."""
        return self.runtime.config.promises.active

    def outbox(self) -> list[dict[str, Any]]:
        notifier = self.runtime.notifier
        if notifier is None:
            return []
        return self._once(("outbox",), lambda: notifier.outbox_rows(limit=50))

    def down_spans(self, targets: Iterable[str]) -> list[tuple[float, float, str]]:
        """Spans (start, end, target) where a target reported up=0, from bucket minimums."""
        wanted = set(targets)
        out: list[tuple[float, float, str]] = []
        for r in self.ranges(TARGET_UP):
            name = r.series.labels.get("target", "")
            if name in wanted:
                out.extend((a, b, name) for a, b in spans_where(r, lambda b: b.min < 0.5))
        return out
