"""``kind: postgres``: one PostgreSQL server, its watched databases, every family.

Safety on production: one connection per watched database (bounded), opened
lazily, read-only transactions with ``statement_timeout``/``lock_timeout``,
``application_name = 'lookout'``, bounded result sets, nothing beyond
AccessShare locks. All due families of one connection go as one batch: one
prepared statement in its own read-only transaction, one round trip
(``connection.merged``); the default poll of a server is a single statement. A family that fails
(timeout, privilege) is reported (``lookout_pg_family_up{family}`` 0 and the
``pg_errors`` document) without blanking the others; an unreachable server
fails the collection with ``pg_up`` 0.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import psycopg
from pydantic import Field, field_validator

from collectors.base import Collector, CollectorError
from collectors.postgres.compat import exporter_health
from collectors.postgres.connection import Connection, describe, safe_dsn
from collectors.postgres.families import FAMILIES, NAMES, Family, probe_allows
from collectors.postgres.rows import Ctx, Result
from core.durations import Duration
from core.samples import Batch, Sample
from core.targets import TargetBase


class PostgresTarget(TargetBase):
    kind: Literal["postgres"] = "postgres"
    dsn: str = Field(description="libpq DSN or URI of the server; password via `${ENV}`.")
    databases: list[str] | None = Field(None, description="Databases to watch; default every database "
                                        "that accepts connections, except templates.")
    max_databases: int = Field(10, ge=1, description="At most this many per-database connections.")
    statement_timeout: Duration = Field(2.0, description="statement_timeout of each batch (a connection's due "
                                        "families in one statement); on a timeout each family is re-run "
                                        "alone under the same limit to name the slow one.")
    lock_timeout: Duration = Field(1.0, description="lock_timeout of Lookout's statements.")
    families: list[str] = Field(list(NAMES), description="Families to collect.")
    intervals: dict[str, Duration] = Field(default_factory=dict,
                                           description="Per-family interval, e.g. {tables: 5m}.")
    statements_top: int = Field(50, ge=1, le=1000, description="Top N statements by total time.")
    tables_top: int = Field(200, ge=1, le=5000, description="At most this many tables per database.")
    unused_index_min_bytes: int = Field(1024 * 1024, ge=0, description="Report unused indexes from this size.")
    sequence_threshold: float = Field(0.8, gt=0, le=1, description="Report sequences above this used share.")
    prepared_statements: bool = Field(True, description="Prepare Lookout's statements on the server once per "
                                      "connection; false behind a transaction-mode pooler without "
                                      "prepared-statement support (PgBouncer < 1.21).")

    @field_validator("families")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        bad = sorted(set(v) - set(NAMES))
        if bad:
            raise ValueError(f"unknown families {bad} (known: {', '.join(NAMES)})")
        return v


class PostgresCollector(Collector):
    kind = "postgres"
    up_metric = "pg_up"
    up_help = "Whether the last scrape of the server was able to connect (1) or not (0)."

    def __init__(self, target: PostgresTarget, **kw) -> None:
        super().__init__(target, **kw)
        t = target
        self._conn_kw: dict[str, Any] = {"statement_timeout": t.statement_timeout, "lock_timeout": t.lock_timeout,
                         "connect_timeout": min(5.0, t.timeout or 5.0), "prepare": t.prepared_statements}
        self.main = Connection(t.dsn, **self._conn_kw)
        self.per_db: dict[str, Connection] = {}
        self.families = [f for f in FAMILIES if f.name in t.families]
        self.options: dict[str, Any] = {"statements_top": t.statements_top, "tables_top": t.tables_top,
                        "unused_index_min_bytes": t.unused_index_min_bytes,
                        "sequence_threshold": t.sequence_threshold, "databases": t.databases}
        self.last_run: dict[tuple[str, str], float] = {}
        self.last: dict[tuple[str, str], Result] = {}     # last result of each (family, datname)
        self.state: dict[tuple[str, str], dict] = {}      # mapper memory (deltas)
        self.probe_ok: dict[tuple[str, str], bool] = {}   # what the last probe said
        self.watched: list[str] = list(t.databases or [])
        self.server_answered = False
        self.scrapes = 0  # pg_exporter_scrapes_total

    # -- scheduling ------------------------------------------------------------
    def interval_of(self, family: Family) -> float:
        iv = self.target.intervals.get(family.name, family.interval)
        return self.target.interval if iv is None else max(iv, self.target.interval)

    def _due(self, family: Family, dat: str, now: float) -> bool:
        if self.interval_of(family) <= self.target.interval:
            return True  # fast families run on every poll
        last = self.last_run.get((family.name, dat))
        # Half a fast interval of slack so scheduler jitter does not skip a turn.
        return last is None or now - last >= self.interval_of(family) - self.target.interval / 2

    # -- collection ------------------------------------------------------------
    def collect(self) -> Iterable[Sample]:
        self.server_answered = False
        now = self.clock()
        try:
            version = self.main.server_version
        except psycopg.Error as exc:
            self.main.close()
            raise CollectorError(f"cannot connect to {safe_dsn(self.target.dsn)}: {describe(exc)}") from None
        self.server_answered = True
        info = self.main.conn.info if self.main.conn is not None else None
        if info is not None:  # the exporter's `server` label (its builtin maps, pg_static)
            self.options["server"] = f"{info.host}:{info.port}"
        samples: list[Sample] = []
        errors: dict[str, str] = {}
        assert self.main.conn is not None  # server_version above connected it
        main_db = self.main.conn.info.dbname
        server = [f for f in self.families if f.scope == "server"]
        self._run_group(self.main, server, "", version, now, samples, errors)
        if not self.target.databases and ("instance", "") in self.last:
            self.watched = self.last[("instance", "")].documents["pg_server"]["databases"]
        per_db = [f for f in self.families if f.scope == "database"]
        if per_db:
            for dat in self.watched[: self.target.max_databases]:
                conn = self.main if dat == main_db else self._db_conn(dat)
                self._run_group(conn, per_db, dat, version, now, samples, errors)
            skipped = self.watched[self.target.max_databases:]
            if skipped:
                errors["databases"] = f"not watched (max_databases={self.target.max_databases}): {', '.join(skipped)}"
        self.documents["pg_errors"] = errors
        if self.main.conn is None:  # the server went away mid-collection
            self.server_answered = False
            raise CollectorError(f"lost the connection to {safe_dsn(self.target.dsn)}: "
                                 + "; ".join(f"{k}: {v}" for k, v in errors.items()))
        return samples

    def _db_conn(self, dat: str) -> Connection:
        if dat not in self.per_db:
            self.per_db[dat] = Connection(self.target.dsn, dbname=dat, **self._conn_kw)
        return self.per_db[dat]

    def _run_group(self, conn: Connection, families: list[Family], dat: str, version: int, now: float,
                   samples: list[Sample], errors: dict[str, str]) -> None:
        due = [f for f in families if self._due(f, dat, now)]
        for f in families:
            if f not in due and (f.name, dat) in self.last:
                self._emit(f, dat, self.last[(f.name, dat)], carried=True, samples=samples)
        if not due:
            return
        try:
            results = self._execute(conn, [(f, self._batch_of(f, dat, version)) for f in due])
            results = [(f, self._after_probe(conn, f, dat, version, out)) for f, out in results]
        except psycopg.Error as exc:
            msg = describe(exc)
            for f in due:
                self._failed(f, dat, msg, samples, errors)
            return
        for f, outcome in results:
            if isinstance(outcome, str):
                self.probe_ok.pop((f.name, dat), None)  # probe again next time
                self._failed(f, dat, outcome, samples, errors)
                continue
            ctx = Ctx(version=version, now=now, datname=dat, watched=list(self.watched),
                      state=self.state.setdefault((f.name, dat), {}), options=self.options)
            res = f.parse(outcome, ctx)
            self.last_run[(f.name, dat)] = now
            self.last[(f.name, dat)] = res
            self._emit(f, dat, res, carried=False, samples=samples)

    def _batch_of(self, f: Family, dat: str, version: int) -> list[str]:
        """The family's statements; a probed family's probe goes first, in the same batch.

        The probed statements (pg_stat_statements) join the batch once an
        earlier probe has shown they can run; until then only the probe is
        sent, so a server without the extension never logs an error for it.
        """
        if not f.probe:
            return f.statements(version, self.options)
        stmts = f.statements(version, self.options) if self.probe_ok.get((f.name, dat)) else []
        return [f.probe(version)] + stmts

    def _after_probe(self, conn: Connection, f: Family, dat: str, version: int, out: list | str) -> list | str:
        """Record what the probe said; run the probed statements if this is their first chance."""
        if not f.probe or isinstance(out, str):
            return out
        ok = probe_allows(f, out[0])
        first = ok and not self.probe_ok.get((f.name, dat))
        self.probe_ok[(f.name, dat)] = ok
        if not first:
            return out if ok else out[:1]
        try:  # one extra round trip, only when the extension has just been found
            return out[:1] + conn.run(f.statements(version, self.options))
        except psycopg.Error as exc:
            if conn.conn is None:  # the connection itself failed
                raise
            return describe(exc)

    def _execute(self, conn: Connection, plans: list[tuple[Family, list[str]]]) -> list[tuple[Family, list | str]]:
        """All families in one round trip; if that fails, each alone to find the culprit."""
        flat = [s for _, stmts in plans for s in stmts]
        try:
            rows = conn.run(flat) if flat else []
        except psycopg.Error:
            if conn.conn is None:  # the connection failed, not a statement
                raise
            out: list[tuple[Family, list | str]] = []
            for f, stmts in plans:
                try:
                    out.append((f, conn.run(stmts) if stmts else []))
                except psycopg.Error as exc:
                    if conn.conn is None:
                        raise
                    out.append((f, describe(exc)))
            return out
        out, i = [], 0
        for f, stmts in plans:
            out.append((f, rows[i:i + len(stmts)]))
            i += len(stmts)
        return out

    def _failed(self, f: Family, dat: str, msg: str, samples: list[Sample], errors: dict[str, str]) -> None:
        errors[f"{f.name}:{dat}" if dat else f.name] = msg
        samples.append(Sample("lookout_pg_family_up", 0.0, _fam_labels(f, dat), help=_FAMILY_UP_HELP))

    def _emit(self, f: Family, dat: str, res: Result, *, carried: bool, samples: list[Sample]) -> None:
        out = self.carried if carried else samples
        out.extend(res.samples)
        out.append(Sample("lookout_pg_family_up", 1.0, _fam_labels(f, dat), help=_FAMILY_UP_HELP))
        for key, doc in res.documents.items():
            if f.scope == "database":
                self.documents.setdefault(key, {})[dat] = doc
            else:
                self.documents[key] = doc

    # -- pg_up on failure, close -----------------------------------------------
    def peer_up(self, batch: Batch) -> float:
        # pg_up is about reaching the server, not about every family succeeding.
        return 1.0 if batch.up or self.server_answered else 0.0

    def _self_samples(self, batch: Batch) -> list[Sample]:
        self.scrapes += 1
        return super()._self_samples(batch) + exporter_health(batch, self.scrapes)

    def close(self) -> None:
        self.main.close()
        for c in self.per_db.values():
            c.close()
        self.per_db.clear()


_FAMILY_UP_HELP = "1 if the family's statements succeeded on their last run, else 0 (see the pg_errors document)."


def _fam_labels(f: Family, dat: str) -> dict[str, str]:
    return {"family": f.name, "datname": dat}
