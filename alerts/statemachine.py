"""The per-alert state machine, pure: (previous state, condition, now) -> (state, transitions).

States people see: ok, pending, firing (warning or critical), stale (no
data), flapping. ``inner`` is the state beneath flapping (equal to ``state``
otherwise) so the machine keeps tracking while notifications are held.

Notifiable changes (the ``event`` of a transition):
  ok/pending -> firing: firing        firing -> firing at another level: escalated / deescalated
  firing/stale -> ok: resolved        ok/pending/firing -> stale: stale     stale -> firing: firing
An alert is *open* while it is firing, stale or flapping. Opening events come
only from a closed alert, ``resolved``/``flapping_ended`` close it.

Every transition carries ``started_at``, the start of the episode it belongs
to: when the value first crossed a threshold (the start of pending, not the
moment it fired), or when the data stopped for a stale alert that never
fired. The machine clears ``pending_since``/``firing_since`` on a resolve,
so the start travels with the transition: a RESOLVED message and the
Alertmanager ``startsAt`` read it from there.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

RANK = {None: 0, "warning": 1, "critical": 2}
OPEN = ("firing", "stale", "flapping")
STALE = "stale"  # the condition "no data", next to a level or None


@dataclass(frozen=True)
class AlertState:
    state: str = "ok"
    inner: str = "ok"
    severity: str | None = None        # level while pending or firing (stale: the level it fired at)
    value: float | None = None
    pending_since: float | None = None  # first crossing; kept while firing (and stale after firing)
    firing_since: float | None = None  # kept through stale: "was firing"
    clear_since: float | None = None   # value cleared at, for keep_firing_for
    last_change: float | None = None
    flapping_since: float | None = None
    flaps: tuple[tuple[float, str, str | None], ...] = ()  # recent (at, event, severity)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN

    @property
    def started_at(self) -> float | None:
        return episode_start(self.inner, self.pending_since, self.firing_since, self.last_change)


def episode_start(inner: str, pending_since: float | None, firing_since: float | None,
                  last_change: float | None) -> float | None:
    """When the current episode began: the first crossing, or when a never-firing alert went stale.

    Takes the stored columns, so readers of state rows (repeats, the API) agree with the machine.
    """
    if inner == "ok":
        return None
    if firing_since is not None:
        return min(firing_since, pending_since) if pending_since is not None else firing_since
    if inner == "stale":
        return last_change
    return pending_since


@dataclass(frozen=True)
class Transition:
    at: float
    from_state: str
    to_state: str
    from_severity: str | None
    to_severity: str | None
    value: float | None
    event: str | None = None
    started_at: float | None = None  # the episode's start (see the module docstring)


@dataclass(frozen=True)
class Event:
    kind: str
    severity: str | None
    previous_severity: str | None
    value: float | None
    at: float
    extra: dict = field(default_factory=dict)
    started_at: float | None = None  # the episode's start: "since", the resolve's duration, startsAt


def advance(prev: AlertState, cond: str | None, now: float, for_s: float,
            keep_firing_for: float, value: float | None) -> tuple[AlertState, list[Transition]]:
    """One step of the machine beneath flapping. ``cond`` is a level, None (fine) or STALE."""
    out: list[Transition] = []
    s = prev

    def go(state: str, severity: str | None, event: str | None, **changes: object) -> None:
        nonlocal s
        # Read before the change: a resolve clears what says when the episode began.
        started: float | None = now  # from ok, or stale without having fired: a new episode
        if s.inner != "ok" and not (state == "stale" and s.firing_since is None):
            started = s.started_at
        out.append(Transition(now, s.inner, state, s.severity, severity, value, event, started))
        s = replace(s, inner=state, severity=severity, last_change=now, **changes)  # type: ignore[arg-type]

    if cond == STALE:
        if s.inner != "stale":
            was_firing = s.firing_since is not None
            # A firing alert that goes silent keeps its level and its start: it is the same incident.
            go("stale", s.severity if was_firing else None, "stale",
               pending_since=s.pending_since if was_firing else None, clear_since=None)
        return s, out
    if s.inner == "stale":
        if cond is not None and s.firing_since is not None:
            go("firing", cond, "firing", clear_since=None)
            return s, out
        go("ok", None, "resolved", firing_since=None, pending_since=None)
    if s.inner == "firing":
        if cond is None:
            since = s.clear_since if s.clear_since is not None else now
            if now - since >= keep_firing_for:
                go("ok", None, "resolved", firing_since=None, clear_since=None, pending_since=None)
            else:
                s = replace(s, clear_since=since)
        elif cond != s.severity:
            go("firing", cond, "escalated" if RANK[cond] > RANK[s.severity] else "deescalated",
               clear_since=None)
        else:
            s = replace(s, clear_since=None)
        return s, out
    if cond is None:
        if s.inner == "pending":
            go("ok", None, None, pending_since=None)
        return s, out
    if s.inner == "ok":
        go("pending", cond, None, pending_since=now)
    if s.pending_since is not None and now - s.pending_since >= for_s:
        go("firing", cond, "firing", firing_since=now, clear_since=None)
    elif cond != s.severity:
        s = replace(s, severity=cond)
    return s, out


def overlay(prev: AlertState, s: AlertState, transitions: list[Transition], now: float,
            limit: int, window: float, settle: float) -> tuple[AlertState, list[Event]]:
    """Flapping on top of the machine: more than ``limit`` changes in ``window`` hold
    notifications as one ``flapping`` event, until ``settle`` passes without a change."""
    new = tuple((t.at, t.event, t.to_severity) for t in transitions if t.event)
    keep = max(window, settle)
    flaps = tuple(f for f in prev.flaps if now - f[0] < keep) + new
    flaps = flaps[-100:]
    recent = [f for f in flaps if now - f[0] < window]
    events: list[Event] = []
    if prev.state != "flapping":
        if new and len(recent) > limit:
            timeline = [{"at": a, "event": e, "severity": sev} for a, e, sev in recent]
            events.append(Event("flapping", s.severity, prev.severity, s.value, now,
                                {"transitions": len(recent), "timeline": timeline}, started_at=now))
            return replace(s, state="flapping", flapping_since=now, flaps=flaps), events
        for t in transitions:
            if t.event:
                events.append(Event(t.event, t.to_severity, t.from_severity, t.value, t.at,
                                    {"previous_state": t.from_state}, started_at=t.started_at))
        return replace(s, state=s.inner, flaps=flaps), events
    last = max([f[0] for f in flaps] + [prev.flapping_since or now])
    if now - last < settle:
        return replace(s, state="flapping", flaps=flaps), events
    events.append(Event("flapping_ended", s.severity, None, s.value, now,
                        {"transitions": len(recent), "flapping_since": prev.flapping_since,
                         "state": s.inner}, started_at=prev.flapping_since))
    if s.inner in ("firing", "stale"):
        events.append(Event(s.inner, s.severity, None, s.value, now, {"previous_state": "flapping"},
                            started_at=s.started_at))
    return replace(s, state=s.inner, flapping_since=None, flaps=()), events
