"""Which receivers an alert goes to, with which grouping and timing. No I/O.

Routes are tried in order; the first match wins unless it says
``continue: true``. No match: ``default_receivers`` (default: every
receiver). Routes see the alert's labels plus ``rule`` and ``alertname``.
A receiver's channel has the last word on its own timing (Alertmanager
re-sends on its own clock): see ``Channel.repeat_interval_for`` and friends.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from alerts.notify.config import ALL_LABELS, NotificationsConfig, Receiver, Timing


@dataclass(frozen=True)
class Delivery:
    """How one alert goes to one receiver: the group it joins and the timing of that group."""

    receiver: Receiver
    group_by: tuple[str, ...]
    group_wait: float
    group_interval: float
    repeat_interval: float
    send_resolved: bool
    ack_stops_repeats: bool


def match_labels(rule: str, labels: dict[str, str]) -> dict[str, str]:
    return {"rule": rule, "alertname": rule, **{k: str(v) for k, v in labels.items()}}


def _pick(route: Timing | None, cfg: NotificationsConfig, name: str) -> Any:
    value = getattr(route, name) if route is not None else None
    return getattr(cfg, name) if value is None else value


def deliveries_for(cfg: NotificationsConfig, rule: str, labels: dict[str, str]) -> list[Delivery]:
    ml = match_labels(rule, labels)
    chosen: list[tuple[str, Timing | None]] = []
    for candidate in cfg.routes:
        if candidate.matches(ml):
            chosen += [(n, candidate) for n in candidate.receivers]
            if not candidate.continue_:
                break
    if not chosen:
        names = cfg.default_receivers if cfg.default_receivers is not None else [r.name for r in cfg.receivers]
        chosen = [(n, None) for n in names]
    out: list[Delivery] = []
    seen: set[str] = set()
    for name, route in chosen:
        if name in seen:
            continue
        seen.add(name)
        recv = cfg.receiver(name)
        channel = recv.settings
        out.append(Delivery(
            receiver=recv,
            group_by=tuple(_pick(route, cfg, "group_by")),
            group_wait=float(_pick(route, cfg, "group_wait")),
            group_interval=float(_pick(route, cfg, "group_interval")),
            repeat_interval=float(channel.repeat_interval_for(float(_pick(route, cfg, "repeat_interval")))),
            send_resolved=bool(channel.send_resolved_for(bool(_pick(route, cfg, "send_resolved")))),
            ack_stops_repeats=channel.ack_stops_repeats,
        ))
    return out


def group_labels(rule: str, labels: dict[str, str], group_by: tuple[str, ...]) -> dict[str, str]:
    ml = match_labels(rule, labels)
    if ALL_LABELS in group_by:
        ml.pop("alertname")
        ml.pop("severity", None)  # an escalation stays in the same group and thread
        return ml
    return {k: ml.get(k, "") for k in group_by}


def group_key(rule: str, labels: dict[str, str], group_by: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    gl = group_labels(rule, labels, group_by)
    return json.dumps(gl, sort_keys=True, separators=(",", ":")), gl
