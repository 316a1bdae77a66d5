"""Maps a receiver's channel key (``slack:``, ``email:``, ...) to its channel class.

A new channel is one module in this package (a :class:`Channel` subclass with
its transport) and one line below. Code outside this package may add one at
run time with :func:`register` (a plug-in, a test), before the config is parsed.
"""
from __future__ import annotations

import re

from pydantic import BaseModel

from alerts.notify.channels.alertmanager import AlertmanagerChannel
from alerts.notify.channels.base import Channel
from alerts.notify.channels.email import EmailChannel
from alerts.notify.channels.sink import SinkChannel
from alerts.notify.channels.slack import SlackChannel

# Registration order is the order in config errors and in the reference.
_CHANNELS: dict[str, type[Channel]] = {
    "slack": SlackChannel,
    "email": EmailChannel,
    "alertmanager": AlertmanagerChannel,
    "sink": SinkChannel,
}

# A YAML key that is also a Python name (a field of Receiver); outbox.channel holds 20 characters.
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,19}$")
_RESERVED = frozenset({"name", "channel", "settings"})  # Receiver's own attributes


def channels() -> dict[str, type[Channel]]:
    """Every registered channel, key -> class, in registration order."""
    return dict(_CHANNELS)


def register(key: str, cls: type[Channel]) -> None:
    """Add a channel under ``key``; receivers then accept ``key: {...}`` validated by ``cls``."""
    if not _KEY.match(key) or key in _RESERVED or hasattr(BaseModel, key):
        raise ValueError(f"{key!r} cannot be a channel key: use lower-case letters, digits and _, "
                         f"at most 20, not one of {', '.join(sorted(_RESERVED))}")
    if not (isinstance(cls, type) and issubclass(cls, Channel)):
        raise TypeError(f"a channel class must subclass alerts.notify.channels.base.Channel, not {cls!r}")
    if _CHANNELS.get(key, cls) is not cls:
        raise ValueError(f"channel {key!r} is already registered ({_CHANNELS[key].__name__})")
    _CHANNELS[key] = cls


def unregister(key: str) -> None:
    """Remove a channel added with :func:`register` (tests clean up with it)."""
    _CHANNELS.pop(key, None)
