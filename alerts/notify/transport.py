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

What every channel shows comes from here, so Slack, email and the sink say
the same thing: the state in brackets first (``[FIRING]``, ``[RESOLVED]``,
``[DE-ESCALATED]``, ``[NO DATA]``...), values and thresholds in the rule's
unit (``thresholds["unit"]``, core.units), "since" from the first crossing
(``started_at``) and, on a resolve, how long the episode lasted.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from core.units import format_value

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


def fmt_value(v: Any, unit: str = "none") -> str:
    """``v`` in ``unit`` ("40.5 %", "231 ms"); "–" for no value."""
    if v is None:
        return "–"
    try:
        return format_value(float(v), unit)
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
    started_at: float | None = None  # the episode's first crossing; None in rows older than it

    @property
    def since(self) -> float | None:
        """When the episode began: the first crossing, else (older rows) when it fired."""
        return self.started_at if self.started_at is not None else self.firing_since

    @property
    def unit(self) -> str:
        return str((self.thresholds or {}).get("unit") or "none")

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
    def tag(self) -> str:
        """The state as the subject and the Slack header lead with it: ``[FIRING]``."""
        if self.kind == "repeat" and self.payload.get("state") in ("stale", "flapping"):
            return "[STILL NO DATA]" if self.payload["state"] == "stale" else "[STILL FLAPPING]"
        return f"[{HEADLINES.get(self.kind, self.kind.upper())}]"

    @property
    def headline(self) -> str:
        """``[FIRING] payment_failure_ratio (critical)``, ``[ESCALATED] ... (warning \u2192 critical)``."""
        detail = ""
        if self.kind in ("escalated", "deescalated") and self.previous_severity:
            detail = f"{self.previous_severity} \u2192 {self.severity}"
        elif self.kind in ("firing", "repeat", "stale") and self.severity:
            detail = self.severity
        elif self.kind == "flapping" and self.payload.get("transitions") is not None:
            detail = f"{self.payload['transitions']} transitions"
        return f"{self.tag} {self.rule}" + (f" ({detail})" if detail else "")

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or self.payload.get("message") or self.rule

    def shown_labels(self) -> list[tuple[str, str]]:
        """Labels worth showing: ``alertname`` repeats the rule name."""
        return sorted((k, str(v)) for k, v in self.labels.items() if k != "alertname")

    def threshold_text(self) -> str:
        """``value 12.0 % > critical 10.0 % (warning > 5.0 %, clears at 4.0 %)``, in the rule's unit."""
        th = self.thresholds or {}
        op, unit = th.get("op", ""), self.unit
        value = f"value {fmt_value(self.value, unit)}"
        if th.get("objective") is not None:  # a promise: its summary says the burn and the budget
            return f"{value} (objective {th.get('objective_text') or fmt_value(th['objective'], 'ratio')})"
        level = self.severity if self.severity in ("warning", "critical") else None
        no_data = self.kind == "stale" or self.payload.get("state") == "stale"  # its repeat too
        parts = []
        if level and th.get(level) is not None and not self.closing and not no_data:
            parts.append(f"{value} {op} {level} {fmt_value(th[level], unit)}")
        else:
            parts.append(f"last {value}" if no_data else value)
        others = [f"{k} {op} {fmt_value(th[k], unit)}" for k in ("warning", "critical")
                  if (k != level or no_data) and th.get(k) is not None]
        clear = th.get("clear")
        if isinstance(clear, dict):  # ENGINE: per level, {"warning": 0.08}
            clear = clear.get(level or "warning")
        if clear is not None:
            others.append(f"clears at {fmt_value(clear, unit)}")
        if others:
            parts.append(f"({', '.join(others)})")
        return " ".join(parts)

    def since_text(self, now: float) -> str:
        """When: since the first crossing; for a resolve, how long it lasted."""
        start = self.since
        if self.closing:
            if start is None:
                return f"resolved at {fmt_time(self.at)}"
            return f"lasted {fmt_age(self.at - start)}, from {fmt_time(start)} to {fmt_time(self.at)}"
        if self.kind == "stale":
            text = f"no data since {fmt_time(self.at)}"
            if self.firing_since is not None and start is not None:
                text += f"; open since {fmt_time(start)} ({fmt_age(now - start)})"
            return text
        if start is None:
            return f"at {fmt_time(self.at)}"
        text = f"since {fmt_time(start)} ({fmt_age(now - start)})"
        if self.firing_since is not None and self.firing_since - start >= 1:
            text += f", firing since {fmt_time(self.firing_since)}"
        return text


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
    def state_tag(self) -> str:
        """``[FIRING]`` for one alert or one kind; ``[FIRING:2, RESOLVED:1]`` for a mixed group."""
        latest = self.latest()
        if len(latest) == 1:
            return latest[0].tag
        counts = Counter(i.tag.strip("[]") for i in latest)
        return "[" + ", ".join(f"{k}:{n}" for k, n in counts.items()) + "]"

    @property
    def title(self) -> str:
        """The message's one title: Slack's header, the email's heading."""
        latest = self.latest()
        if len(latest) == 1:
            return latest[0].headline
        return f"{self.state_tag} {', '.join(sorted({i.rule for i in latest}))}"

    def item_headline(self, item: Item) -> str | None:
        """An item's own headline; None for a message of one item, whose title it is."""
        return None if len(self.items) == 1 else item.headline


class Transport:
    """Delivers to one receiver. ``notify`` raises :class:`TransportError` on failure."""

    def notify(self, notification: Notification) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections; the default has none."""
