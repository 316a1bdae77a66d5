"""Error budgets and burn rates, pure: readings of windows in, verdicts out.

A window's reading is the share of bad events (or bad time) in it. With an
objective of 99 %, the error budget is 1 % of events; a window whose bad share
is 14.4 % burns the budget 14.4 times as fast as the compliance window can
afford. Each burn alert looks at a long and a short window and fires only
when both burn at least its factor: the long one proves it is real, the short
one that it is still happening (so the alert resets minutes after a fix, not
an hour later). Google SRE Workbook, "Alerting on SLOs", table 5-8.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from promises.config import BurnAlert

RANK = {None: 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class Reading:
    """One window: the bad share (None: too little data to judge), the events or slices it saw,
    and how many series matched at all (0: the metric is not collected)."""

    window: float
    bad: float | None
    seen: float = 0.0
    series: int = 0


def burn_rate(bad: float | None, objective: float) -> float | None:
    """How many times faster than sustainable the budget burns; None without a reading."""
    if bad is None:
        return None
    return bad / (1.0 - objective)


def budget_left(bad: float | None, objective: float) -> float | None:
    """Share of the compliance window's error budget still unspent: 1 untouched, 0 spent, below 0 overspent."""
    rate = burn_rate(bad, objective)
    return None if rate is None else 1.0 - rate


@dataclass(frozen=True)
class Check:
    alert: BurnAlert
    long_burn: float | None
    short_burn: float | None

    @property
    def fires(self) -> bool:
        return (self.long_burn is not None and self.short_burn is not None
                and self.long_burn >= self.alert.factor and self.short_burn >= self.alert.factor)

    @property
    def closeness(self) -> float:
        """The smaller of the two burns over the factor: 1 or more fires."""
        if self.long_burn is None or self.short_burn is None:
            return 0.0
        return min(self.long_burn, self.short_burn) / self.alert.factor


def checks(alerts: Sequence[BurnAlert], readings: Mapping[float, Reading], objective: float) -> list[Check]:
    def burn(window: float) -> float | None:
        r = readings.get(window)
        return burn_rate(r.bad, objective) if r else None

    return [Check(a, burn(float(a.long)), burn(float(a.short))) for a in alerts]


def level(found: Sequence[Check]) -> str | None:
    """The most severe firing alert's severity, or None."""
    best: str | None = None
    for c in found:
        if c.fires and RANK[c.alert.severity] > RANK[best]:
            best = c.alert.severity
    return best


def score(found: Sequence[Check]) -> float:
    """One number for the alert state machine: 2 critical, 1 warning, below 1 how close the nearest is."""
    lvl = level(found)
    if lvl is not None:
        return float(RANK[lvl])
    return min(max((c.closeness for c in found), default=0.0), 0.99)


def windows(alerts: Sequence[BurnAlert]) -> set[float]:
    return {float(w) for a in alerts for w in (a.long, a.short)}
