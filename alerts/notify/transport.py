"""What a channel receives (:class:`Notification`) and the base class of transports.

A transport turns one notification into one delivery and says whether a
failure is worth retrying, healthchecks.io style::

    class Pager(Transport):
        def notify(self, n: Notification) -> None:
            r = self.session.post(URL, json={"text": n.items[0].headline})
            if r.status_code >= 400:
                raise TransportError(f"pager answered {r.status_code}", permanent=r.status_code < 500)

Channels that POST JSON over HTTP subclass ``channels.http.HttpTransport``
instead, which does exactly that; a channel's config model builds its
transport (see channels/base.py).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

HEADLINES = {
    "firing": "FIRING", "escalated": "ESCALATED", "deescalated": "DE-ESCALATED",
    "resolved": "RESOLVED", "stale": "NO DATA", "flapping": "FLAPPING",
    "flapping_ended": "FLAPPING ENDED", "repeat": "STILL FIRING", "dead_letter": "NOTIFICATION FAILED",
}
CLOSING = frozenset({"resolved", "flapping_ended"})
COLOURS = {"critical": "#D00000", "warning": "#F2A900", "ok": "#2EB67D", "stale": "#8D8D8D",
           "flapping": "#8E44AD"}


class TransportError(Exception):
    """A failed delivery. ``permanent`` ones are dead-lettered at once."""

    def __init__(self, message: str, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after


def fmt_value(v: Any) -> str:
    if v is None:
        return "n/a"
    try:
        return f"{float(v):.4g}"
    except (TypeError, ValueError):
        return str(v)


def fmt_time(ts: float | None) -> str:
    if ts is None:
        return "unknown"
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt_age(seconds: float) -> str:
    s = int(max(0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600}h"


@dataclass
class Item:
    """One alert's change (or repeat) inside a notification."""

    outbox_id: int
    kind: str
    alert_id: int | None
    alert_key: str | None
    rule: str
    labels: dict[str, str]
    annotations: dict[str, str]
    thresholds: dict[str, Any]
    severity: str | None
    previous_severity: str | None
    value: float | None
    at: float
    firing_since: float | None
    payload: dict[str, Any] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # ack, dashboard, image, runbook

    @property
    def closing(self) -> bool:
        return self.kind in CLOSING

    @property
    def colour(self) -> str:
        if self.closing:
            return COLOURS["ok"]
        if self.kind in ("stale", "flapping"):
            return COLOURS[self.kind]
        return COLOURS["critical" if self.severity in (None, "critical") else "warning"]

    @property
    def headline(self) -> str:
        head = HEADLINES.get(self.kind, self.kind.upper())
        if self.kind in ("escalated", "deescalated") and self.previous_severity:
            head += f" {self.previous_severity} \u2192 {self.severity}"
        elif self.kind in ("firing", "repeat") and self.severity:
            head += f" ({self.severity})"
        if self.kind == "repeat":
            head += f" since {fmt_time(self.firing_since)}"
        if self.kind == "flapping" and self.payload.get("transitions") is not None:
            head += f" ({self.payload['transitions']} transitions)"
        return f"{head}: {self.rule}"

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or self.payload.get("message") or self.rule

    def shown_labels(self) -> list[tuple[str, str]]:
        """Labels worth showing: ``alertname`` repeats the rule name."""
        return sorted((k, str(v)) for k, v in self.labels.items() if k != "alertname")

    def threshold_text(self) -> str:
        """``value 0.12 > critical 0.1 (warning 0.05, clears below 0.04)``."""
        th = self.thresholds or {}
        op = th.get("op", "")
        value = f"value {fmt_value(self.value)}"
        level = self.severity if self.severity in ("warning", "critical") else None
        parts = []
        if level and th.get(level) is not None and not self.closing:
            parts.append(f"{value} {op} {level} {fmt_value(th[level])}")
        else:
            parts.append(value)
        others = [f"{k} {op} {fmt_value(th[k])}" for k in ("warning", "critical")
                  if k != level and th.get(k) is not None]
        clear = th.get("clear")
        if isinstance(clear, dict):  # ENGINE: per level, {"warning": 0.08}
            clear = clear.get(level or "warning")
        if clear is not None:
            others.append(f"clears at {fmt_value(clear)}")
        if others:
            parts.append(f"({', '.join(others)})")
        return " ".join(parts)

    def since_text(self, now: float) -> str:
        if self.closing:
            start = f" after {fmt_age(self.at - self.firing_since)}" if self.firing_since else ""
            return f"resolved at {fmt_time(self.at)}{start}"
        if self.firing_since is None:
            return f"at {fmt_time(self.at)}"
        return f"since {fmt_time(self.firing_since)} ({fmt_age(now - self.firing_since)})"


@dataclass
class Notification:
    """One message to one receiver: one group's pending items, oldest first."""

    receiver: str
    group_key: str
    group_labels: dict[str, str]
    items: list[Item]
    message_id: str  # stable for this batch of outbox rows: a retry is recognisable
    thread_id: str  # stable for the group: email threading
    created_at: float
    now: float
    dashboard_url: str | None = None

    def latest(self) -> list[Item]:
        """The newest item of each alert (a batch may hold an alert's firing and its resolve)."""
        out: dict[str, Item] = {}
        for i in self.items:
            out.pop(i.alert_key or f"#{i.outbox_id}", None)
            out[i.alert_key or f"#{i.outbox_id}"] = i
        return list(out.values())

    @property
    def title(self) -> str:
        latest = self.latest()
        if len(latest) == 1:
            return latest[0].headline
        n_fire = sum(1 for i in latest if not i.closing)
        n_res = len(latest) - n_fire
        what = ", ".join(p for p in (f"{n_fire} firing" if n_fire else "",
                                     f"{n_res} resolved" if n_res else "") if p)
        rules = sorted({i.rule for i in latest})
        return f"{len(latest)} alerts ({what}): {', '.join(rules)}"


class Transport:
    """Delivers to one receiver. ``notify`` raises :class:`TransportError` on failure."""

    def notify(self, notification: Notification) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections; the default has none."""
