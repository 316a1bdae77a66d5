from __future__ import annotations

from collections.abc import Iterator

import pytest

from store.config import Retention
from store import Store

T0 = 1_699_999_200.0  # an hour boundary (2023-11-14 22:00 UTC): rollup buckets line up with it


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(store_url: str, clock: FakeClock) -> Iterator[Store]:
    s = Store(store_url, clock=clock)
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def make_store(clock: FakeClock) -> Iterator:
    """Factory for stores with their own retention; closed at teardown."""
    made: list[Store] = []

    def make(url: str, retention: Retention | None = None) -> Store:
        s = Store(url, retention=retention, clock=clock)
        s.migrate()
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()
