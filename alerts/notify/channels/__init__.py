"""Notification channels: one module per channel, one line per channel in ``registry.py``.

A channel module brings its config model (a :class:`~alerts.notify.channels.base.Channel`
subclass: the keys under ``slack:``, ``email:``, ...), its transport, and its own
delivery rules as methods of that model. The router, the dispatcher and the
notifier only ask the registry and those methods.

Nothing is imported here on purpose: the channel modules import ``channels.base``,
and the registry imports the channel modules.
"""
