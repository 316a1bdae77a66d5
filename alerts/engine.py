"""One evaluation cycle over all rules, and the write side of acks and silences.

Per instance the cycle reads the previous state, evaluates (pure), decides
mutes and saves state + transitions + events in one compare-and-set
transaction. Two evaluators (threads or processes) may run the same cycle:
for each instance only the first save wins, so an event is written once.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, select

from alerts import items as rule_items
from alerts import maintenance, mutes, promise_rules, removed
from alerts import silences as sil
from alerts.config import AlertingConfig, Rule
from alerts.evaluate import Outcome
from alerts.evaluate import evaluate as evaluate_instance
from alerts.rules import rule_values
from alerts.schema import alert_events, alert_state, migrate, writer_of
from alerts.state_store import Stored, alert_key, load_all, save
from alerts.statemachine import OPEN, AlertState
from alerts.templates import context, render
from promises.config import PromisesConfig
from promises.evaluate import Evaluator
from store.availability import store_unavailable

log = logging.getLogger("lookout.alerts")
DOWN_WINDOW = 300.0


@dataclass
class EvalReport:
    at: float
    rules: int = 0
    instances: int = 0
    transitions: int = 0
    events: int = 0
    cas_conflicts: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    unknown_metrics: list[str] = field(default_factory=list)
    down_targets: list[str] = field(default_factory=list)
    duration: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _config(config: Any) -> AlertingConfig:
    return config if isinstance(config, AlertingConfig) else config.alerting


def _intervals(config: Any) -> dict[str, float]:
    """Target name -> collection interval, so stale is judged per target (alerts.rules.stale_after)."""
    return {t.name: float(t.interval) for t in getattr(config, "targets", None) or []}


class AlertEngine:
    def __init__(self, config: Any, store: Any, clock: Callable[[], float] = time.time,
                 intervals: Mapping[str, float] | None = None,
                 promises: PromisesConfig | None = None) -> None:
        self.config = _config(config)
        pcfg = promises if promises is not None else getattr(config, "promises", None)
        # The shop's promises: evaluated on every full cycle (_promise_cycle), alerting by burn rate.
        self.promises = Evaluator(pcfg, store, clock) if isinstance(pcfg, PromisesConfig) else None
        # An AlertingConfig alone knows no targets: then an empty rule window is no data.
        self.intervals = dict(intervals) if intervals is not None else _intervals(config)
        self.store = store
        self.clock = clock
        self.writer = writer_of(store)
        self.started_at: float | None = None
        self.last_report: EvalReport | None = None
        self._warned: set[str] = set()
        self._documents: dict[tuple[str | None, str], list[Any]] = {}  # {items} reads of this cycle
        self._lock = threading.Lock()
        # Targets a config reload removed: their series are left out and their open alerts closed
        # (not "no data" for a target nobody watches any more). Re-adding a target takes it off.
        self.removed_targets: frozenset[str] = frozenset()

    def reconfigure(self, config: Any, removed_targets: Iterable[str] = ()) -> None:
        """A reloaded config's rules, promises and target intervals, between two cycles.

        Alert state lives in the store by rule name and series labels, so a rule that is
        kept (changed or not) goes on from its state: still past its new threshold, it keeps
        firing and its ``firing_since``; no longer past it, it clears as the state machine says.
        """
        with self._lock:
            self.config = _config(config)
            pcfg = getattr(config, "promises", None)
            if isinstance(pcfg, PromisesConfig) and (self.promises is None or self.promises.config != pcfg):
                self.promises = Evaluator(pcfg, self.store, self.clock)
            self.intervals = _intervals(config)
            self.removed_targets = frozenset((self.removed_targets | set(removed_targets)) - set(self.intervals))

    def migrate(self) -> None:
        migrate(self.store.engine, self.writer)

    # -- evaluation -----------------------------------------------------------
    def evaluate(self, now: float | None = None, only_metrics: Iterable[str] | None = None,
                 blocking: bool = True) -> EvalReport | None:
        """One cycle; ``only_metrics`` limits it to rules reading those metrics (a batch just landed)."""
        if not self._lock.acquire(blocking=blocking):
            return None  # a cycle is running in this process: it will see the same samples
        try:
            return self._cycle(self.clock() if now is None else now, only_metrics)
        finally:
            self._lock.release()

    def _cycle(self, now: float, only: Iterable[str] | None) -> EvalReport:
        t0 = time.perf_counter()
        if self.started_at is None:
            self.started_at = now
        report = EvalReport(at=now)
        self._documents = {}
        wanted = set(only) if only is not None else None
        rules = [r for r in self.config.rules if wanted is None or r.metrics() & wanted]
        with self.store.engine.connect() as conn:
            stored = load_all(conn)
            active_silences = sil.active(conn, now)
        windows = [w for w in self.config.maintenance if maintenance.active(w, now)]
        down = self._down_targets(now) - self.removed_targets
        report.down_targets = sorted(down)
        suppressors = mutes.down_dependents(self.config, down)
        by_rule: dict[str, list[Stored]] = {}
        for s in stored.values():
            if s.series_labels.get("target") not in self.removed_targets:
                by_rule.setdefault(s.rule, []).append(s)
        source = _Without(self.store, self.removed_targets) if self.removed_targets else self.store
        # Target-down rules last: their payload counts what the others had suppressed.
        for rule in sorted(rules, key=lambda r: mutes.TARGET_UP in r.metrics()):
            report.rules += 1
            try:
                values = rule_values(rule, source, now, self.intervals)
            except Exception as exc:
                if store_unavailable(exc):
                    raise  # the store went away mid-cycle: the job says so once, no traceback per rule
                log.exception("rule %s failed", rule.name)
                report.errors[rule.name] = f"{exc.__class__.__name__}: {exc}"
                continue
            instances = {s.key: s for s in by_rule.get(rule.name, [])}
            series = {alert_key(rule.name, labels): (labels, v) for labels, v in values.values()}
            for key in series.keys() | instances.keys():
                prev = instances.get(key) or Stored(key=key, rule=rule.name, series_labels=series[key][0])
                value = series[key][1] if key in series else None
                mute = mutes.mute_for(self._labels(rule, prev.series_labels, None), mutes.TARGET_UP in
                                      rule.metrics(), suppressors, active_silences, windows)
                self._instance(rule, prev, value, mute, now, stored, report)
        if only is None and self.promises is not None:
            self._promise_cycle(now, by_rule, stored, active_silences, windows, suppressors, report)
        if only is None:  # a full cycle: close what rules removed from the config left open
            names = {r.name for r in self.config.rules} | {p.alert_name for p in self._active_promises()}
            gone = {k: s for k, s in stored.items() if s.series_labels.get("target") in self.removed_targets}
            rule_gone = removed.orphans_of(stored, names)
            target_gone = [s for s in removed.orphans_of(gone, set()) if s.key not in {o.key for o in rule_gone}]
            for orphans, reason in ((rule_gone, removed.REASON), (target_gone, removed.TARGET_REASON)):
                n_t, n_e, n_c = removed.close(self.writer, self.store.engine, orphans, now, reason)
                report.transitions += n_t
                report.events += n_e
                report.cas_conflicts += n_c
        self._check_metrics(now, report)
        report.duration = time.perf_counter() - t0
        self.last_report = report
        return report

    def _active_promises(self) -> list[Any]:
        return self.promises.config.active if self.promises is not None else []

    def _promise_cycle(self, now: float, by_rule: dict[str, list[Stored]], stored: dict[str, Stored],
                       active_silences: Any, windows: Any, suppressors: Any, report: EvalReport) -> None:
        """Each promise: evaluate, drive its alert, save the Status the alert was decided on."""
        assert self.promises is not None
        with self.writer.begin() as conn:
            promise_rules.forget_others(conn, [p.id for p in self._active_promises()])
        for p in self._active_promises():
            report.rules += 1
            try:
                status = self.promises.evaluate(p, now)
            except Exception as exc:
                if store_unavailable(exc):
                    raise
                log.exception("promise %s failed", p.id)
                report.errors[p.alert_name] = f"{exc.__class__.__name__}: {exc}"
                continue
            rule = promise_rules.rule_for(p, status)
            key = alert_key(rule.name, {})
            prev = next(iter(by_rule.get(rule.name, [])), None) or Stored(key=key, rule=rule.name, series_labels={})
            mute = mutes.mute_for(self._labels(rule, {}, None), False, suppressors, active_silences, windows)
            self._instance(rule, prev, promise_rules.value_for(status), mute, now, stored, report, shown=status.value)
            with self.writer.begin() as conn:
                promise_rules.save_status(conn, status, key)

    def _instance(self, rule: Rule, prev: Stored, value: float | None, mute: mutes.Mute | None,
                  now: float, stored: dict[str, Stored], report: EvalReport, shown: float | None = None) -> None:
        """``shown``: the value saved and shown when it is not the one evaluated (a promise's SLI)."""
        report.instances += 1
        out = evaluate_instance(rule, value, prev.state, now, self.config.flapping)
        if shown is not None or rule.name.startswith("promise_"):
            out = _showing(out, shown)
        state = _stale_severity(rule, out.state)
        labels = self._labels(rule, prev.series_labels, state.severity)
        annotated, notified = mutes.apply(out.events, prev.notified, state, mute, now)
        unit = rule.value_unit()
        thresholds = {**rule.thresholds(), "unit": unit}  # messages read values in the rule's unit
        promise = self.promises.config.get(rule.labels.get(promise_rules.PROMISE_LABEL, "")) \
            if self.promises is not None else None
        if promise is not None:  # its level is a burn score: messages show the objective instead
            thresholds = {"unit": unit, "objective": promise.objective, "objective_text": promise.line_text()}
        items = self._items(rule, prev.series_labels)
        annotations = _annotations(rule, prev, labels, state.value, thresholds, state.severity, state.state, items)
        resolved = annotations
        if any(e.kind == "resolved" for e, _ in annotated):
            # The resolve says what was wrong (the summary it fired with), marked resolved.
            was = _annotations(rule, prev, labels, prev.state.value, thresholds, prev.state.severity,
                               prev.state.inner, items)
            resolved = {**annotations, "summary": f"Resolved: {was.get('summary') or rule.name}"}
        closes_ack = any(e.kind in ("escalated", "deescalated", "resolved", "flapping_ended") for e in out.events)
        values: dict[str, Any] = {
            **_state_cols(state), "rule": rule.name, "labels": json.dumps(labels, sort_keys=True),
            "last_eval": now, "annotations": json.dumps(annotations), "thresholds": json.dumps(thresholds),
            "silenced_by": mute.silence_id if mute else None,
            "suppressed_by": mute.suppressed_by if mute else None,
            "muted_reason": mute.reason if mute else None, "notified": notified,
            "acked_by": None if closes_ack or state.state not in OPEN else prev.acked_by,
            "acked_at": None if closes_ack or state.state not in OPEN else prev.acked_at,
        }
        if prev.id is not None and not annotated and not out.transitions and _same(prev, values) \
                and (state.state == "ok" or state.value == prev.state.value):
            return  # nothing new: an ok alert's row is not rewritten every cycle
        events = [self._event_row(rule, prev, e, reason, mute, labels,
                                  resolved if e.kind == "resolved" else annotations, thresholds, state, stored)
                  for e, reason in annotated]
        alert_id = save(self.writer, prev, values, out.transitions, events)
        if alert_id is None:
            report.cas_conflicts += 1
            return
        report.transitions += len(out.transitions)
        report.events += len(events)
        for e in events:
            log.info("alert %s %s%s", prev.key, e["event"], f" (muted: {e['muted_reason']})" if e["muted"] else "")

    def _event_row(self, rule: Rule, prev: Stored, e: Any, reason: str | None, mute: mutes.Mute | None,
                   labels: dict[str, str], annotations: dict[str, str], thresholds: dict[str, Any],
                   state: Any, stored: dict[str, Stored]) -> dict[str, Any]:
        # Never a notification without a severity: a resolve carries the level it had, NO DATA its own.
        severity = (e.severity or e.previous_severity or state.severity or prev.state.severity
                    or _lowest_severity(rule))
        # The episode's start: the event's own, else the alert's (an "unmuted" re-send).
        started = next((t for t in (e.started_at, state.started_at, prev.state.started_at) if t is not None), None)
        payload = {"rule": rule.name, "labels": {**labels, "severity": severity},
                   "series_labels": prev.series_labels, "annotations": annotations, "thresholds": thresholds,
                   "firing_since": state.firing_since if state.firing_since is not None else prev.state.firing_since,
                   "started_at": started, "value": e.value, "state": state.state,
                   **e.extra, **mutes.payload_mute(reason, mute)}
        if mutes.TARGET_UP in rule.metrics() and prev.series_labels.get("target"):
            payload.update(self._suppression_counts(prev.series_labels["target"], started, stored))
        return {"event": e.kind, "severity": severity if e.kind == "stale" else e.severity,
                "previous_severity": e.previous_severity,
                "value": e.value, "at": e.at, "payload": json.dumps(payload, default=str),
                "muted": reason is not None, "muted_reason": reason,
                "suppressed_by": mute.suppressed_by if (mute and reason) else None}

    def _suppression_counts(self, target: str, since: float | None, stored: dict[str, Stored]) -> dict[str, int]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(alert_state.c.state).where(alert_state.c.suppressed_by == target)).all()
            q = select(func.count()).select_from(alert_events).where(alert_events.c.suppressed_by == target)
            if since is not None:
                q = q.where(alert_events.c.at >= since)
            muted_events = conn.execute(q).scalar_one()
        return {"suppressed_alerts": sum(1 for (s,) in rows if s != "ok"), "dependent_alerts": len(rows),
                "suppressed_events": int(muted_events)}

    def _items(self, rule: Rule, series_labels: dict[str, str]) -> str:
        """``{items}`` for one alert: the rule's document of the series' target, read now."""
        if rule.items is None:
            return "–"
        key = (series_labels.get("target"), rule.items.document)
        if key not in self._documents:  # once a cycle: one read serves every database's alert
            self._documents[key] = self.store.documents(target=key[0], key=key[1])
        return rule_items.render(rule.items, series_labels, self._documents[key])

    @staticmethod
    def _labels(rule: Rule, series_labels: dict[str, str], severity: str | None) -> dict[str, str]:
        out = {**series_labels, **rule.labels, "alertname": rule.name}
        if severity:
            out["severity"] = severity
        return out

    def _down_targets(self, now: float) -> set[str]:
        down = set()
        for sp in self.store.raw(mutes.TARGET_UP, None, now - DOWN_WINDOW, now):
            if sp.points and sp.points[-1][1] < 1 and sp.series.labels.get("target"):
                down.add(sp.series.labels["target"])
        return down

    def _check_metrics(self, now: float, report: EvalReport) -> None:
        if self.started_at is None or now - self.started_at < self.config.unknown_metric_grace:
            return
        known = set(self.store.metric_names())
        missing = {m for r in self.config.rules for m in r.metrics()} - known
        for m in sorted(missing - self._warned):
            rules = [r.name for r in self.config.rules if m in r.metrics()]
            log.warning("alert rules %s read metric %s, which no collector has produced", ", ".join(rules), m)
        self._warned = missing
        report.unknown_metrics = sorted(missing)

    # -- acks and silences ------------------------------------------------------
    def ack(self, alert_id: int, who: str, comment: str | None = None, now: float | None = None) -> dict[str, Any]:
        from alerts.acks import ack
        return ack(self.store.engine, self.writer, alert_id, who, comment, self.clock() if now is None else now)

    def silence(self, matchers: Any, starts_at: float | None, ends_at: float, author: str, comment: str,
                now: float | None = None) -> int:
        now = self.clock() if now is None else now
        return sil.create(self.writer, sil.parse(matchers), now if starts_at is None else starts_at, ends_at,
                          author, comment, now)

    def expire_silence(self, silence_id: int, now: float | None = None) -> bool:
        return sil.expire(self.writer, silence_id, self.clock() if now is None else now)


class _Without:
    """The store's ``raw`` without the series of some targets (those a reload removed)."""

    def __init__(self, store: Any, targets: frozenset[str]) -> None:
        self.store, self.targets = store, targets

    def raw(self, name: str, matchers: Mapping[str, str] | None, start: float, end: float) -> list[Any]:
        return [sp for sp in self.store.raw(name, matchers, start, end)
                if sp.series.labels.get("target") not in self.targets]


def _showing(out: Outcome, shown: float | None) -> Outcome:
    return Outcome(replace(out.state, value=shown), [replace(t, value=shown) for t in out.transitions],
                   [replace(e, value=shown) for e in out.events])


def _lowest_severity(rule: Rule) -> str:
    return "warning" if rule.warning is not None else "critical"


def _stale_severity(rule: Rule, state: AlertState) -> AlertState:
    """A stale alert that never fired takes the rule's lowest level (one that fired keeps its own)."""
    if state.inner == "stale" and state.severity is None:
        return replace(state, severity=_lowest_severity(rule))
    return state


def _annotations(rule: Rule, prev: Stored, labels: dict[str, str], value: float | None,
                 thresholds: dict[str, Any], severity: str | None, state: str, items: str = "–") -> dict[str, str]:
    """The rule's annotations rendered for one state; a stale alert's summary names the series."""
    ctx = context(rule.name, labels, value, thresholds, severity, str(thresholds.get("unit") or "none"), items)
    out = {k: render(v, ctx) for k, v in rule.annotations.items()}
    if state == "stale":  # the stale-data alert names the series, whatever the rule says
        out = {**out, "rule_summary": out.get("summary", ""),
               "summary": f"No data for {rule.name} on {json.dumps(prev.series_labels, sort_keys=True)}"}
    return out


def _state_cols(state: Any) -> dict[str, Any]:
    from alerts.state_store import state_columns
    return state_columns(state)


def _same(prev: Stored, values: dict[str, Any]) -> bool:
    """Whether a save would change only value and last_eval (skipped to spare the store)."""
    cols = _state_cols(prev.state)
    keys = ("state", "inner_state", "severity", "pending_since", "firing_since", "clear_since",
            "flapping_since", "flaps")
    return (all(cols[k] == values[k] for k in keys) and prev.notified == values["notified"]
            and prev.silenced_by == values["silenced_by"] and prev.suppressed_by == values["suppressed_by"]
            and prev.muted_reason == values["muted_reason"] and prev.acked_by == values["acked_by"])
