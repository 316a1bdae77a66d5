"""Incidents from the alert history: each episode of an alert that fired.

An episode runs from the transition out of ``ok`` (the first crossing: the
start of pending, or straight to firing) to the transition back to ``ok``.
Episodes that never fired (pending that cleared, stale without firing) are
no incident. Read through :mod:`alerts.queries`, never the alert tables.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from alerts import queries

# Transitions read per alert (newest first): a flapping alert past this has its oldest episode cut.
PER_ALERT = 2000
FIRED = ("firing", "flapping")
RANK = {None: 0, "warning": 1, "critical": 2}


@dataclass
class Episode:
    alert_id: int
    rule: str
    key: str
    labels: Mapping[str, str]
    start: float | None
    end: float | None = None
    severity: str | None = None
    severity_value: float | None = None  # the value when it first reached ``severity``
    fired: bool = False
    values: list[tuple[float, float]] = field(default_factory=list)  # (at, value) of its transitions
    thresholds: Mapping[str, Any] = field(default_factory=dict)      # op and unit, from the state row

    def overlaps(self, start: float, end: float) -> bool:
        return (self.end is None or self.end >= start) and (self.start is None or self.start <= end)


def episodes(alert: Mapping[str, Any], transitions: Iterable[Mapping[str, Any]]) -> list[Episode]:
    """Episodes of one alert from its transitions (any order); only those that fired."""
    out: list[Episode] = []
    cur: Episode | None = None

    def new(start: float | None) -> Episode:
        return Episode(int(alert["id"]), alert["rule"], alert["alert_key"], alert.get("series_labels") or {},
                       start, thresholds=alert.get("thresholds") or {})

    for t in sorted(transitions, key=lambda t: (t["at"], t["id"])):
        if t["from_state"] == "ok" or cur is None:
            # A first transition not out of ok: the episode began before the transitions read.
            cur = new(t["at"] if t["from_state"] == "ok" else None)
        if t.get("value") is not None:
            cur.values.append((float(t["at"]), float(t["value"])))
        if t["to_state"] in FIRED:
            if RANK.get(t.get("to_severity"), 0) > RANK.get(cur.severity, 0) or not cur.fired:
                cur.severity, cur.severity_value = t.get("to_severity"), t.get("value")
            cur.fired = True
        if t["to_state"] == "ok":
            cur.end = float(t["at"])
            out.append(cur)
            cur = None
    if cur is not None:
        out.append(cur)
    return [e for e in out if e.fired]


def read(db: Engine, start: float, end: float) -> tuple[list[Episode], str | None]:
    """Episodes of every alert that overlap [start, end], oldest first, and a note if the read failed."""
    try:
        rows = queries.alert_rows(db)
        found: list[Episode] = []
        for alert in rows:
            if alert["state"] == "ok" and (alert.get("last_change") or 0) < start:
                continue  # nothing happened to it in the period
            detail = queries.alert_detail(db, int(alert["id"]), limit=PER_ALERT)
            if detail is not None:
                found += [e for e in episodes(alert, detail.transitions) if e.overlaps(start, end)]
    except SQLAlchemyError as exc:
        return [], f"the alert history could not be read: {getattr(exc, 'orig', None) or exc}"
    found.sort(key=lambda e: (e.start if e.start is not None else float("-inf"), e.rule, e.key))
    return found, None


def peak(values: Iterable[float], higher_is_worse: bool) -> float | None:
    vals = list(values)
    if not vals:
        return None
    return max(vals) if higher_is_worse else min(vals)
