"""The claims report as plain data: what build.py measures and the renderers print.

Times are epoch seconds; values are in the promise's (or the rule's) unit base
(a 0-1 ratio, seconds), formatted only when rendered.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.durations import format_duration
from core.units import format_value


@dataclass(frozen=True)
class Incident:
    """One episode of an alert that fired: from the first crossing to the resolve."""

    rule: str
    key: str
    labels: Mapping[str, str]
    start: float | None        # the first crossing; None: before the alert history that was read
    end: float | None          # None: still open when the report was made
    severity: str | None       # the worst severity it fired at
    worst: float | None        # promises: the lowest SLI (worst value) while it lasted; rules: the value
    unit: str                  # when it first reached its severity (a rule is not re-evaluated between changes)

    @property
    def name(self) -> str:
        """The rule and its series' labels, as a person reads them: ``payment_failure_ratio target=shop``."""
        return " ".join([self.rule, *(f"{k}={v}" for k, v in sorted(self.labels.items()))])

    def duration(self, until: float) -> float | None:
        """How long it lasted; an open incident counts up to ``until``."""
        if self.start is None:
            return None
        return max((self.end if self.end is not None else until) - self.start, 0.0)


@dataclass(frozen=True)
class Hour:
    """The clock hour with the lowest SLI (or the worst measured value)."""

    start: float
    value: float
    events: float | None = None  # event-based SLIs: how many events the hour held


@dataclass(frozen=True)
class PromiseReport:
    id: str
    title: str
    description: str
    unit: str
    objective: float
    sli: str                   # what is measured, e.g. "good / all of shop_payments_total" or "p95 < 500 ms"
    compliance: float | None   # share of good events (or good time) over the period
    budget_left: float | None  # of the period's error budget: 1 untouched, 0 spent, below 0 overspent
    value: float | None        # the measured value over the whole period, in ``unit``
    seen: float                # events counted, or time slices judged
    seen_what: str             # "events" or "slices of 34m"
    worst_hour: Hour | None
    incidents: list[Incident] = field(default_factory=list)
    series: list[tuple[float, float]] = field(default_factory=list)  # the SLI per chart bucket
    line: float = 0.0          # the objective (event SLI) or the bound (threshold SLI), in the series' terms
    line_label: str = ""
    reason: str | None = None  # why there are no numbers

    @property
    def kept(self) -> bool | None:
        return None if self.compliance is None else self.compliance >= self.objective

    @property
    def verdict(self) -> str:
        return {None: "no data", True: "kept", False: "missed"}[self.kept]


@dataclass(frozen=True)
class Report:
    start: float
    end: float
    since: float
    promises: list[PromiseReport]
    others: list[Incident]     # incidents of threshold rules (not promises)
    history_note: str | None = None  # why the alert history is missing or partial


# -- formatting shared by the renderers ------------------------------------------------------
def when(ts: float | None, *, seconds: bool = False) -> str:
    if ts is None:
        return "before the history read"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def until(inc: Incident) -> str:
    return "ongoing" if inc.end is None else when(inc.end, seconds=True)


def lasted(inc: Incident, report_end: float) -> str:
    d = inc.duration(report_end)
    if d is None:
        return "–"
    return format_duration(d) + (" so far" if inc.end is None else "")


def budget_text(budget_left: float | None) -> str:
    if budget_left is None:
        return "–"
    if budget_left < 0:
        return f"overspent: {format_value(1 - budget_left, 'ratio')} of the budget spent"
    return format_value(budget_left, "ratio")


def hour_text(h: Hour | None, unit: str) -> str:
    if h is None:
        return "–"
    end = datetime.fromtimestamp(h.start + 3600, UTC).strftime("%H:%M")
    events = "" if h.events is None else f", {h.events:,.0f} events"
    return f"{when(h.start)}–{end}: {format_value(h.value, unit)}{events}"


def compliance_text(p: PromiseReport) -> str:
    if p.compliance is None:
        return f"no data ({p.reason})" if p.reason else "no data"
    return f"{format_value(p.compliance, 'ratio')} ({p.verdict}, {p.seen:,.0f} {p.seen_what})"
