"""Notifications: routing, the durable outbox, the dispatcher and the channels.

    from alerts.notify import Notifier
    notifier = Notifier(config, store)
    notifier.route()     # unprocessed alert_events + due repeats -> outbox rows
    notifier.dispatch()  # deliver due outbox rows once

Imports are lazy: ``alerts.config`` imports ``alerts.notify.config`` while
``composition.config`` is still loading, and the store (which the notifier needs)
imports ``composition.config`` in turn.
"""
from __future__ import annotations

from typing import Any

__all__ = ["NotificationsConfig", "Notifier", "Transport", "TransportError"]


def __getattr__(name: str) -> Any:
    if name == "Notifier":
        from alerts.notify.notifier import Notifier
        return Notifier
    if name == "NotificationsConfig":
        from alerts.notify.config import NotificationsConfig
        return NotificationsConfig
    if name in ("Transport", "TransportError"):
        from alerts.notify import transport
        return getattr(transport, name)
    raise AttributeError(name)
