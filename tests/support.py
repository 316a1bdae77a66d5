"""Small helpers shared by the test folders (fixtures themselves live in tests/conftest.py)."""
from __future__ import annotations

import socket

T0 = 1_700_000_000.0  # where a FakeClock starts unless a folder says otherwise (tests/store does)


def free_port() -> int:
    """A loopback port nothing listens on right now (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeClock:
    """A clock tests move by hand: ``clock.now = …`` or ``clock.advance(60)``."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def migrate_store(url: str) -> str:
    """Bring a store database to the latest store and alerts schema, leaving no connection open."""
    from alerts.schema import migrate, writer_of
    from store import Store

    s = Store(url)
    try:
        s.migrate()
        migrate(s.engine, writer_of(s))
    finally:
        s.close()
    return url
