"""Why an alert's notifications are held, and what that does to its events.

Order of precedence: a down target it depends on, a silence, a maintenance
window. Muted events are still recorded (``muted`` + reason) for history;
NOTIFY does not send them. Acks never mute events: they stop repeats only.

An open alert whose opening was muted is *not notified*; when its mute ends
while it is still open, one event re-opens it for the receivers (reason
"unmuted"), and a close of an alert nobody was told about is muted too.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from alerts.config import AlertingConfig, MaintenanceWindow
from alerts.matchers import all_match
from alerts.silences import Silence, first_match
from alerts.statemachine import OPEN, AlertState, Event

TARGET_UP = "lookout_target_up"
CLOSING = ("resolved", "flapping_ended")
UPDATING = ("escalated", "deescalated")


@dataclass(frozen=True)
class Mute:
    reason: str
    silence_id: int | None = None
    suppressed_by: str | None = None


def down_dependents(config: AlertingConfig, down_targets: set[str]) -> dict[str, str]:
    """target -> the down target that suppresses its alerts (itself, or what it depends on)."""
    out = {t: t for t in down_targets}
    for dep in config.dependencies:
        if dep.target in down_targets:
            for d in dep.dependents:
                out.setdefault(d, dep.target)
    return out


def mute_for(labels: Mapping[str, str], is_down_rule: bool, suppressors: Mapping[str, str],
             silences: Sequence[Silence], windows: Sequence[MaintenanceWindow]) -> Mute | None:
    target = labels.get("target")
    if not is_down_rule and target is not None and target in suppressors:
        src = suppressors[target]
        why = f"dependency: target {src} is down" if src == target else \
            f"dependency: {target} depends on {src}, which is down"
        return Mute(why, suppressed_by=src)
    s = first_match(silences, labels)
    if s is not None:
        return Mute(f"silenced by #{s.id} ({s.author}: {s.comment})", silence_id=s.id)
    for w in windows:
        if all_match(w.match, labels):
            return Mute(f"maintenance window {w.name}")
    return None


def apply(events: list[Event], notified: bool, state: AlertState,
          mute: Mute | None, now: float) -> tuple[list[tuple[Event, str | None]], bool]:
    """(event, muted reason or None) for each event, plus whether the open episode is notified."""
    out: list[tuple[Event, str | None]] = []
    for e in events:
        if e.kind in CLOSING:
            reason = None if notified else f"never notified: {mute.reason}" if mute else "never notified"
            out.append((e, reason))
            notified = False
            continue
        reason = mute.reason if mute else None
        if reason is None and not notified and e.kind in UPDATING:
            e = replace(e, kind="firing", extra={**e.extra, "reason": "unmuted"})  # nobody saw it open
        out.append((e, reason))
        notified = notified or reason is None
    if state.state in OPEN and not notified and mute is None:
        out.append((Event(state.state, state.severity, None, state.value, now, {"reason": "unmuted"}), None))
        notified = True
    if state.state not in OPEN:
        notified = False
    return out, notified


def payload_mute(reason: str | None, mute: Mute | None) -> dict[str, Any]:
    return {"muted": reason is not None, "muted_reason": reason,
            "suppressed_by": mute.suppressed_by if (mute and reason) else None}
