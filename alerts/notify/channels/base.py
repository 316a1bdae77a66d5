"""The base of every notification channel: its settings, its transport, its rules.

A channel is the config model of one key under a receiver (``slack:``,
``email:``, ...). Its fields are what people write in config.yaml; its
methods say how to build the transport and how routing and delivery treat
it. The defaults suit channels that people read. Example::

    class PagerChannel(Channel):
        description: ClassVar[str] = "Page through the pager service."
        url: str = Field(description="The pager's webhook URL, as `${ENV}`.")

        def transport(self, ctx: ChannelContext) -> Transport:
            return PagerTransport(self.url, ctx.session)

    # alerts/notify/channels/registry.py
    "pager": PagerChannel,
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from alerts.notify.transport import Transport
from core.configmodel import ConfigModel

if TYPE_CHECKING:
    import requests

    from alerts.notify.config import NotificationsConfig

Begin = Callable[[], AbstractContextManager[Any]]


@dataclass(frozen=True)
class ChannelContext:
    """What a channel may need to build its transport; passed in so tests can give their own."""

    receiver: str  # the receiver's name
    notifications: NotificationsConfig  # the whole section: email reads ``smtp`` from it
    begin: Begin  # the store's write transaction: the sink keeps its messages in a table
    session: requests.Session | None = None  # shared HTTP session; None: each transport opens its own
    smtp_factory: Callable[..., Any] | None = None  # opens an SMTP connection (tests: a local server)


class Channel(ConfigModel):
    """One receiver's channel. Subclasses add fields and implement :meth:`transport`."""

    # The meaning of the channel's key under a receiver, shown in the configuration reference.
    description: ClassVar[str] = ""
    # An acknowledged alert is not repeated to this receiver (acks are for people).
    ack_stops_repeats: ClassVar[bool] = True

    def transport(self, ctx: ChannelContext) -> Transport:
        raise NotImplementedError(f"{type(self).__name__} does not say how to deliver")

    def min_send_interval(self) -> float:
        """Seconds to leave between two messages to this receiver (the far side's rate limit)."""
        return 0.0

    def repeat_interval_for(self, configured: float) -> float:
        """How often a still-firing group is sent again, given the route's ``repeat_interval``."""
        return configured

    def send_resolved_for(self, configured: bool) -> bool:
        """Whether resolves are sent, given the route's ``send_resolved``."""
        return configured

    def check_config(self, notifications: NotificationsConfig) -> None:
        """Raise ValueError when the rest of the ``notifications`` section lacks what this channel needs."""
