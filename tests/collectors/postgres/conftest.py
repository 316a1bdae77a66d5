"""Real servers for the PostgreSQL collector: the system PostgreSQL 15 (from
tests/conftest.py) and an embedded PostgreSQL 18 with pg_stat_statements."""
from __future__ import annotations

import psycopg
import pytest

from collectors.postgres import PostgresCollector, PostgresTarget
from tests.conftest import libpq_dsn


@pytest.fixture
def test_db(make_pg_database) -> str:
    """libpq DSN of a fresh database on the system PostgreSQL 15, dropped when the test ends."""
    return libpq_dsn(make_pg_database("lookout_pgc"))


def dbname(dsn: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def make(dsn: str, clock: Clock | None = None, **kw) -> PostgresCollector:
    kw.setdefault("databases", [dbname(dsn)])
    kw.setdefault("timeout", 10)
    target = PostgresTarget(name="pg", kind="postgres", dsn=dsn, interval=15, **kw)
    return PostgresCollector(target, **({"clock": clock} if clock else {}))


def values(batch, name: str, **labels) -> list[float]:
    return [s.value for s in batch.samples if s.name == name
            and all(s.labels.get(k) == v for k, v in labels.items())]


def value(batch, name: str, **labels) -> float:
    found = values(batch, name, **labels)
    assert len(found) == 1, f"{name}{labels}: {found} (error: {batch.error})"
    return found[0]
