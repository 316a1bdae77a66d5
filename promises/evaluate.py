"""One promise, one evaluation: the numbers every surface shows.

The alert engine evaluates each promise once per cycle and saves the
resulting :class:`Status` beside the promise's alert state, so the card, the
alert, its messages, ``/api/promises`` and the report all read the same
computation and can never disagree. Long windows change slowly and cost the
most to read: a window's reading is reused for ``min(5 min, window / 60)``,
unless it had nothing to judge yet.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from core.durations import format_duration
from core.units import format_value
from promises import burn, sli
from promises.config import Promise, PromisesConfig

MAX_REUSE = 300.0


@dataclass(frozen=True)
class WindowBurn:
    window: float
    bad: float | None
    burn: float | None
    seen: float


@dataclass(frozen=True)
class AlertCheck:
    severity: str
    long: float
    short: float
    factor: float
    long_burn: float | None
    short_burn: float | None
    fires: bool


@dataclass(frozen=True)
class Status:
    id: str
    title: str
    unit: str
    objective: float
    window: float
    now_window: float
    at: float
    value: float | None            # the SLI's value over now_window, in the promise's unit
    compliance: float | None       # share of good events / time over the compliance window
    budget_left: float | None      # 1 untouched, 0 spent, below 0 overspent
    level: str | None              # the burn alerts' verdict: critical, warning or None
    score: float                   # for the alert state machine: 2 critical, 1 warning, below 1 fine
    burns: list[WindowBurn] = field(default_factory=list)
    checks: list[AlertCheck] = field(default_factory=list)
    reason: str | None = None      # why there is no value
    line_text: str = ""            # the promise in the value's terms: "≥ 98.0 % of events"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Status:
        return cls(**{**d, "burns": [WindowBurn(**b) for b in d.get("burns", [])],
                      "checks": [AlertCheck(**c) for c in d.get("checks", [])]})

    @property
    def kept(self) -> bool | None:
        """Whether the compliance window meets the objective; None without data."""
        return None if self.compliance is None else self.compliance >= self.objective

    def burn_over(self, window: float) -> float | None:
        return next((b.burn for b in self.burns if b.window == window), None)

    def summary(self) -> str:
        """One line a person reads: the value now, the objective, the burn and the budget."""
        if self.value is None and self.compliance is None:
            return f"{self.title}: no data ({self.reason or 'nothing measured yet'})"
        now = format_value(self.value, self.unit)
        parts = [f"{self.title} {now} over the last {format_duration(self.now_window)}",
                 f"objective {self.line_text or format_value(self.objective, 'ratio')}"]
        firing = [c for c in self.checks if c.fires]
        if firing:
            c = max(firing, key=lambda c: (burn.RANK[c.severity], c.factor))
            parts.append(f"burning the {format_duration(self.window)} error budget "
                         f"{_x(c.long_burn)} ({format_duration(c.long)}) and {_x(c.short_burn)} "
                         f"({format_duration(c.short)}), alert at {_x(c.factor)}")
        if self.budget_left is not None:
            parts.append(f"{format_value(max(self.budget_left, 0.0), 'ratio')} of the budget left"
                         if self.budget_left >= 0 else "budget overspent")
        return ", ".join(parts)


def _x(v: float | None) -> str:
    return "–" if v is None else (f"{v:.1f}x" if v < 100 else f"{v:,.0f}x")


class Evaluator:
    """Evaluates promises against a store; keeps slow windows' readings for a while."""

    def __init__(self, config: PromisesConfig, source: sli.Source,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.source = source
        self.clock = clock
        self._cache: dict[tuple[str, float], tuple[float, burn.Reading, float | None]] = {}

    def evaluate_all(self, now: float | None = None) -> list[Status]:
        now = self.clock() if now is None else now
        return [self.evaluate(p, now) for p in self.config.active]

    def _read(self, p: Promise, window: float, now: float) -> tuple[burn.Reading, float | None]:
        reuse = min(MAX_REUSE, window / 60.0)
        hit = self._cache.get((p.id, window))
        if hit is not None and 0 <= now - hit[0] < reuse:
            return hit[1], hit[2]
        if p.events is not None:
            got = sli.events(p.events, self.source, now, window)
        else:
            assert p.threshold is not None
            got = sli.threshold(p.threshold, self.source, now, window)
        # A window that said nothing yet (a fresh start) is read again next cycle: reusing it would
        # leave the card on "no data" for minutes after the first samples arrive.
        if got[0].bad is not None:
            self._cache[(p.id, window)] = (now, *got)
        return got

    def evaluate(self, p: Promise, now: float) -> Status:
        alerts = self.config.burn_of(p)
        window = self.config.window_of(p)
        wanted = sorted(burn.windows(alerts) | {window, float(p.now_window)})
        readings: dict[float, burn.Reading] = {}
        values: dict[float, float | None] = {}
        for w in wanted:
            readings[w], values[w] = self._read(p, w, now)
        found = burn.checks(alerts, readings, p.objective)
        whole = readings[window]
        value = values[float(p.now_window)]
        reason = None
        if value is None and whole.bad is None:
            reason = self._why_empty(p, readings)
        return Status(
            id=p.id, title=p.title, unit=p.unit, objective=p.objective, window=window,
            now_window=float(p.now_window), at=now, value=value,
            compliance=None if whole.bad is None else 1.0 - whole.bad,
            budget_left=burn.budget_left(whole.bad, p.objective), level=burn.level(found),
            score=burn.score(found),
            burns=[WindowBurn(w, r.bad, burn.burn_rate(r.bad, p.objective), r.seen) for w, r in readings.items()],
            checks=[AlertCheck(c.alert.severity, float(c.alert.long), float(c.alert.short), c.alert.factor,
                               c.long_burn, c.short_burn, c.fires) for c in found],
            reason=reason, line_text=p.line_text())

    def _why_empty(self, p: Promise, readings: dict[float, burn.Reading]) -> str:
        if p.events is not None and any(r.series for r in readings.values()):
            seen = max(r.seen for r in readings.values())
            return f"too few events to judge ({seen:.0f}, need {p.events.min_events:g})"
        return f"no samples of {', '.join(sorted(p.metrics()))}"
