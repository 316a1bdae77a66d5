"""Notifications: routing, the durable outbox, the dispatcher and the channels.

    from alerts.notify import Notifier
    notifier = Notifier(config, store)
    notifier.route()     # unprocessed alert_events + due repeats -> outbox rows
    notifier.dispatch()  # deliver due outbox rows once

Channels (Slack, email, Alertmanager, the demo's sink) live in ``channels/``,
one module each, listed in ``channels/registry.py``.
"""
from __future__ import annotations

from alerts.notify.config import NotificationsConfig
from alerts.notify.notifier import Notifier
from alerts.notify.transport import Transport, TransportError

__all__ = ["NotificationsConfig", "Notifier", "Transport", "TransportError"]
