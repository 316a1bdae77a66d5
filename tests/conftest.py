"""Session fixtures for the real servers the tests use.

PostgreSQL and Redis must be reachable (``.ci/run`` starts them, or falls
back to embedded ones and exports the URLs below). A test that needs one and
cannot reach it fails loudly: it never skips silently.

- ``LOOKOUT_TEST_PG``: SQLAlchemy URL of a server where the tests may create
  databases (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``).
- ``LOOKOUT_TEST_REDIS``: Redis URL (default ``redis://127.0.0.1:6379/0``).
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("LOOKOUT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("LOOKOUT_TEST_REDIS", "redis://127.0.0.1:6379/0")


def libpq_dsn(url: str, database: str | None = None) -> str:
    """SQLAlchemy URL -> libpq conninfo for psycopg."""
    u = make_url(url)
    if database:
        u = u.set(database=database)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_admin_dsn() -> str:
    dsn = libpq_dsn(PG_URL)
    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            conn.execute("select 1")
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL} (set LOOKOUT_TEST_PG): {exc}")
    return dsn


@pytest.fixture(scope="session")
def make_pg_database(pg_admin_dsn: str) -> Iterator:
    """Factory: a fresh, empty database per call, dropped at session end."""
    created: list[str] = []

    def make(prefix: str = "lookout_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return str(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))

    yield make
    with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
        for name in created:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def pg_store_url(make_pg_database) -> str:
    """SQLAlchemy URL of a fresh PostgreSQL database for one test."""
    return make_pg_database()


@pytest.fixture
def sqlite_store_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'lookout.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request) -> str:
    """Run a store test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_store_url")
    return request.getfixturevalue("pg_store_url")


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=5).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} (set LOOKOUT_TEST_REDIS): {exc}")
    return REDIS_URL


@pytest.fixture
def server_dir() -> Iterator:
    """A data folder an embedded server's own system user can reach.

    As root, embedded PostgreSQL runs as a separate user; pytest re-tightens
    /tmp/pytest-of-root to 0700 whenever a pytest session starts, which
    would lock that user out of anything under tmp_path.
    """
    import shutil
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp(prefix="lookout-server-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
