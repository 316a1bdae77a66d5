"""Fixtures for store tests: the clock starts on an hour boundary; stores with their own retention.

``store`` (migrated, on SQLite and on PostgreSQL) and ``clock`` come from tests/conftest.py.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from store import Store
from store.config import Retention
from tests.support import FakeClock

T0 = 1_699_999_200.0  # an hour boundary (2023-11-14 22:00 UTC): rollup buckets line up with it


@pytest.fixture
def clock_start() -> float:
    return T0


@pytest.fixture
def make_store(clock: FakeClock) -> Iterator:
    """Factory for stores with their own retention; closed at teardown.

    A test names its database fixture before ``make_store``, so its stores are closed before
    the database is dropped.
    """
    made: list[Store] = []

    def make(url: str, retention: Retention | None = None) -> Store:
        s = Store(url, retention=retention, clock=clock)
        s.migrate()
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()
