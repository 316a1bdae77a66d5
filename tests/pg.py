"""PostgreSQL for the tests: cheap fresh databases, a bounded number of connections, and one
clear report when the server has no connection left.

- One admin connection per session (``PgServer.execute``) runs every CREATE/DROP DATABASE and
  the connection report, so the report still works once the server is full.
- A migrated database is a clone (``CREATE DATABASE x TEMPLATE t``) of one template that is
  migrated once per session with the store's and the alerts' schema. Cloning refuses a template
  anybody is connected to: the template's engine is disposed, then ALLOW_CONNECTIONS false keeps
  it so. Its name carries a per-session suffix because several test sessions share the server.
- Every database is dropped WITH (FORCE) when the test that asked for it ends, which also ends
  whatever connection the test left open (counted, and listed at the end of the run); the
  session drops whatever remains, and databases of sessions that died are dropped at the start.
- ``synchronous_commit = off`` on each test database: no test needs its commits to survive a
  crash of the shared server, and waiting for the WAL flush is most of what a small commit costs
  on a busy disk.
"""
from __future__ import annotations

import os
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

APP = f"lookout-tests[{os.getpid()}]"  # PGAPPNAME of this session: who holds a connection
OUT_OF_CONNECTIONS = ("too many clients already", "remaining connection slots are reserved")
_COMMENT = "lookout tests: pid {pid} on {host}"
_COMMENT_RE = re.compile(r"lookout tests: pid (\d+) on (\S+)")


def libpq_dsn(url: str, database: str | None = None) -> str:
    """SQLAlchemy URL -> libpq conninfo for psycopg."""
    u = make_url(url)
    if database:
        u = u.set(database=database)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def dbname(url_or_name: str) -> str:
    """The database a SQLAlchemy URL names, or the name itself."""
    return (make_url(url_or_name).database or "") if "/" in url_or_name else url_or_name


def is_out_of_connections(error: BaseException | str | None) -> bool:
    """True if the error, or one it wraps, is PostgreSQL refusing a connection for lack of slots."""
    seen: set[int] = set()
    while isinstance(error, BaseException) and id(error) not in seen:
        seen.add(id(error))
        if any(m in str(error) for m in OUT_OF_CONNECTIONS):
            return True
        error = getattr(error, "orig", None) or error.__cause__ or error.__context__
    return isinstance(error, str) and any(m in error for m in OUT_OF_CONNECTIONS)


_SERVER_IN_ERROR = re.compile(r'connection to server (?:at "([^"]+)"(?: \([^)]*\))?, port (\d+)|on socket "([^"]+)")')


def server_in_error(error: BaseException | str) -> str | None:
    """``host:port`` (or the socket) libpq names in a connection error."""
    m = _SERVER_IN_ERROR.search(str(error))
    if not m:
        return None
    return f"{m.group(1)}:{m.group(2)}" if m.group(1) else m.group(3)


@dataclass
class Usage:
    """Connections in use on a server, by application_name and database."""

    max_connections: int
    reserved: int  # superuser_reserved_connections
    rows: list[tuple[str, str, int]] = field(default_factory=list)  # (application_name, datname, count)

    @property
    def in_use(self) -> int:
        return sum(n for _app, _db, n in self.rows)


USAGE_SQL = (
    "SELECT coalesce(nullif(application_name, ''), '(none)'), coalesce(datname, '(none)'), count(*)"
    " FROM pg_stat_activity WHERE backend_type = 'client backend'"
    " GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2")


def usage(conn: psycopg.Connection) -> Usage:
    limits = conn.execute("SELECT current_setting('max_connections')::int,"
                          " current_setting('superuser_reserved_connections')::int").fetchone()
    assert limits is not None
    rows = [(str(a), str(d), int(n)) for a, d, n in conn.execute(USAGE_SQL).fetchall()]
    return Usage(limits[0], limits[1], rows)


def format_out_of_connections(server: str, use: Usage | None, error: str = "", ours: str = APP,
                              why_unknown: str = "", top: int = 12) -> str:
    """The message a test run prints once when PostgreSQL has no connection left for it."""
    said = [line.strip() for line in error.splitlines() if line.strip()]
    first = next((line for line in said if any(m in line for m in OUT_OF_CONNECTIONS)), said[0] if said else "")
    if use is None:
        head = f"PostgreSQL at {server} is out of connections, and cannot say who holds them: {why_unknown}."
        return "\n".join(x for x in (head, f"  error: {first}" if first else "") if x)
    lines = [f"PostgreSQL at {server} is out of connections: max_connections={use.max_connections} "
             f"({use.reserved} reserved for superusers), {use.in_use} in use now.",
             f"  error: {first}" if first else "",
             f"  {'connections':>11}  {'application_name':<32} database"]
    by_app: dict[str, int] = {}
    for app, _db, n in use.rows:
        by_app[app] = by_app.get(app, 0) + n
    for app, db, n in use.rows[:top]:
        mark = "   <- this test run" if app.startswith(ours) else ""
        lines.append(f"  {n:>11}  {app:<32} {db}{mark}")
    if len(use.rows) > top:
        rest = use.rows[top:]
        lines.append(f"  {sum(n for *_x, n in rest):>11}  ({len(rest)} more rows)")
    mine = sum(n for app, n in by_app.items() if app.startswith(ours))
    lines.append("  By application: " + ", ".join(f"{app} {n}" for app, n in
                                                  sorted(by_app.items(), key=lambda kv: -kv[1])))
    lines.append(f"  This test run ({ours}) holds {mine}; the rest belong to other clients of the server "
                 "(other test runs on a shared server): wait for them, or raise max_connections.")
    return "\n".join(x for x in lines if x)


def ps_usage(port: int | None = None) -> list[tuple[str, str, int]]:
    """(user, database, count) of local PostgreSQL backends from their process titles, for when
    no connection is left to ask the server; with ``port``, only the server listening there."""
    import psutil

    title = re.compile(r"postgres: (?:\S+: )?(\S+) (\S+) (?:\S+\(\d+\)|\[local\])")
    ports: dict[int, set[int]] = {}  # postmaster pid -> ports it listens on

    def listens(pid: int) -> set[int]:
        if pid not in ports:
            try:
                ports[pid] = {c.laddr.port for c in psutil.Process(pid).net_connections("inet")
                              if c.status == psutil.CONN_LISTEN}
            except psutil.Error:
                ports[pid] = set()
        return ports[pid]

    counts: dict[tuple[str, str], int] = {}
    for p in psutil.process_iter(["name", "cmdline", "ppid"]):
        m = title.match(" ".join(p.info["cmdline"] or [])) if p.info["name"] == "postgres" else None
        if m and (port is None or port in listens(p.info["ppid"])):
            counts[(m.group(1), m.group(2))] = counts.get((m.group(1), m.group(2)), 0) + 1
    return sorted(((u, d, n) for (u, d), n in counts.items()), key=lambda r: -r[2])


class PgServer:
    """The session's PostgreSQL: its admin connection, the databases it made, its template."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        host = self.url.host or self.url.query.get("host") or "localhost"
        self.label = f"{host}:{self.url.port or 5432}"
        self.dsn = libpq_dsn(url)
        self.created: list[str] = []
        self.leaks: list[tuple[str, str]] = []  # (who asked for the database, connections it left)
        self._admin: psycopg.Connection | None = None
        self._template: str | None = None
        self._lock = threading.RLock()

    # -- the admin connection -------------------------------------------------
    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(self.dsn, autocommit=True, connect_timeout=5, application_name=f"{APP} admin")

    def execute(self, query: sql.SQL | sql.Composed | str, params: tuple | None = None) -> list[tuple]:
        with self._lock:
            if self._admin is None or self._admin.closed:
                self._admin = self._connect()
                self._drop_orphans(self._admin)
            try:
                cur = self._admin.execute(query, params)
            except psycopg.OperationalError:
                if not self._admin.closed:
                    raise
                self._admin = self._connect()  # the server restarted or dropped us: once more
                cur = self._admin.execute(query, params)
            return cur.fetchall() if cur.description else []

    def check(self) -> None:
        self.execute("SELECT 1")

    # -- databases --------------------------------------------------------------
    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, prefix: str = "lookout_test", template: str | None = None) -> str:
        """A new database (empty, or a clone of ``template``); returns its SQLAlchemy URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        ident = sql.Identifier(name)
        with self._lock:
            if template:
                self.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(ident, sql.Identifier(template)))
            else:
                self.execute(sql.SQL("CREATE DATABASE {}").format(ident))
            self.created.append(name)
            self.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(ident))
            self.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                ident, sql.Literal(_COMMENT.format(pid=os.getpid(), host=socket.gethostname()))))
        return self.url_of(name)

    def connected(self, name: str) -> list[tuple[str, int]]:
        """(application_name, count) of the connections open to one database."""
        return [(str(a), int(n)) for a, n in self.execute(
            "SELECT coalesce(nullif(application_name, ''), '(none)'), count(*) FROM pg_stat_activity"
            " WHERE datname = %s GROUP BY 1 ORDER BY 2 DESC", (name,))]

    def drop(self, url_or_name: str, owner: str | None = None) -> None:
        """Drop a database this session made, ending any connection still open to it."""
        name = dbname(url_or_name)
        with self._lock:
            left = self.connected(name)
            deadline = time.monotonic() + 0.1
            while left and owner and time.monotonic() < deadline:
                time.sleep(0.01)  # a backend whose client just closed leaves pg_stat_activity as it exits
                left = self.connected(name)
            if left and owner:
                self.leaks.append((owner, ", ".join(f"{n} ({app})" for app, n in left)))
            self.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            if name in self.created:
                self.created.remove(name)

    def template(self) -> str:
        """Name of this session's template at the latest store and alerts schema (built on first use)."""
        with self._lock:
            if self._template is None:
                self._template = self._build_template()
            return self._template

    def _build_template(self) -> str:
        from tests.support import migrate_store

        name = dbname(migrate_store(self.create("lookout_test_template")))
        self.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(sql.Identifier(name)))
        left = self.connected(name)
        if left:
            raise RuntimeError(f"template {name} still has connections after its store was closed: {left};"
                               " CREATE DATABASE … TEMPLATE would fail")
        return name

    @staticmethod
    def _drop_orphans(admin: psycopg.Connection) -> None:
        """Drop databases left by test sessions on this host that have died (killed, timed out)."""
        import psutil

        rows = admin.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database"
            " WHERE datname LIKE 'lookout\\_%'").fetchall()
        for name, comment in rows:
            m = _COMMENT_RE.fullmatch(comment or "")
            if not m or m.group(2) != socket.gethostname() or psutil.pid_exists(int(m.group(1))):
                continue
            try:  # without FORCE: a database somebody still uses is not an orphan
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            except psycopg.Error:
                pass

    def close(self) -> None:
        with self._lock:
            for name in list(reversed(self.created)):  # the template last: clones are gone by then
                try:
                    self.drop(name)
                except psycopg.Error:
                    pass
            if self._admin is not None:
                self._admin.close()

    # -- when the server is full --------------------------------------------------
    def out_of_connections_report(self, error: BaseException | str) -> str:
        server = server_in_error(error) or self.label
        if server != self.label and not server.startswith("/"):
            return format_out_of_connections(server, None, str(error), why_unknown=(
                f"it is not the tests' server {self.label}; a server a test started itself"))
        try:
            with self._lock:
                if self._admin is None or self._admin.closed:
                    self._admin = self._connect()
                return format_out_of_connections(server, usage(self._admin), str(error))
        except psycopg.Error:
            rows = ps_usage(self.url.port or 5432)
            local = ("its backends on this machine by user/database, from ps: "
                     + ", ".join(f"{u}/{d} {n}" for u, d, n in rows[:10])) if rows else "no local backend of it seen"
            return format_out_of_connections(server, None, str(error), why_unknown=(
                f"no connection is left to ask it; {local}"))
