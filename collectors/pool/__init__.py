"""``kind: pool``: connection-pool health from the sources a shop has.

- PgBouncer's admin console (``pgbouncer:``) with pgbouncer_exporter's names;
- the application's own pool (``apps:``), as JSON with mapped fields or as
  Prometheus metrics;
- the server side (``server:``): connections per application_name against
  ``max_connections``.

Derived: ``lookout_pool_utilization_ratio{pool}`` (in use / max),
``lookout_pool_waiting_clients{pool}``, and the connection budget
``lookout_pool_connection_budget_ratio`` = sum(pool_size x processes) /
max_connections. A failing source is reported by
``lookout_pool_source_up{source}`` 0 and the ``pool_errors`` document; the
target fails only when every source fails.

An application pool's field that matches nothing (or no number) leaves its
source up with the values that did map, counts in
``lookout_mapping_misses_total{probe=<app pool>,path}``, is logged once, and
makes the target *failing* with that error in ``/api/targets``: each source
is an entry of the ``probes`` document (api.probes), ``ok`` false with reason
``down`` or ``mapping_miss``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import partial
from typing import Literal

import psycopg
import requests
from pydantic import Field, model_validator

from collectors import jsonpath
from collectors.base import Collector, CollectorError
from collectors.jsonpath import Misses
from collectors.pool import app, pgbouncer, pgbouncer_names
from collectors.postgres.connection import Connection, describe, safe_dsn
from collectors.postgres.rows import num
from core.configmodel import ConfigModel
from core.samples import Batch, Sample
from core.targets import TargetBase

log = logging.getLogger("lookout.collectors.pool")


class PgBouncerSource(ConfigModel):
    dsn: str = Field(description="DSN of PgBouncer's admin console (database `pgbouncer`).")


class AppPool(ConfigModel):
    name: str = Field(description="Pool name; the `pool` label.")
    url: str | None = Field(None, description="HTTP JSON endpoint reporting the pool.")
    metrics_url: str | None = Field(None, description="The application's Prometheus /metrics.")
    fields: dict[str, app.FieldRef] = Field(description=(
        "Role -> JSON path (url: `$.pool.totalCount` or `pool.totalCount`) or metric name (metrics_url); "
        "roles: in_use, idle, total, waiting, max."))
    match_labels: dict[str, str] = Field(default_factory=dict, description="Only metric samples with these labels.")
    processes: int = Field(1, ge=1, description="Processes that each hold such a pool (for the budget).")
    pool_size: int | None = Field(
        None, ge=1, description="Pool size per process for the budget; default the reported max.")

    @model_validator(mode="after")
    def _one_source(self) -> AppPool:
        if (self.url is None) == (self.metrics_url is None):
            raise ValueError("give exactly one of url or metrics_url")
        bad = sorted(set(self.fields) - set(app.ROLES))
        if bad:
            raise ValueError(f"unknown fields {bad} (roles: {', '.join(app.ROLES)})")
        if self.url is not None:
            for role, path in self.fields.items():
                try:
                    jsonpath.parse(path)
                except jsonpath.PathError as exc:
                    raise ValueError(f"fields.{role}: {exc}") from None
        return self


class ServerSource(ConfigModel):
    dsn: str = Field(description="DSN of the PostgreSQL server behind the pools.")


class PoolTarget(TargetBase):
    kind: Literal["pool"] = "pool"
    pgbouncer: PgBouncerSource | None = Field(None, description="Read pools from PgBouncer's admin console.")
    apps: list[AppPool] = Field(default_factory=list, description="Application-side pools (e.g. SQLAlchemy's).")
    server: ServerSource | None = Field(None, description=(
        "Count connections per application_name on the PostgreSQL server against max_connections."))
    max_connections: int | None = Field(None, ge=1, description="Budget denominator when no server is given.")

    @model_validator(mode="after")
    def _some_source(self) -> PoolTarget:
        if not (self.pgbouncer or self.apps or self.server):
            raise ValueError("give at least one of pgbouncer, apps, server")
        return self


class PoolCollector(Collector):
    kind = "pool"

    def __init__(self, target: PoolTarget, **kw) -> None:
        super().__init__(target, **kw)
        self.bouncer: psycopg.Connection | None = None
        self.server = (Connection(target.server.dsn, connect_timeout=min(5.0, target.timeout or 5.0))
                       if target.server else None)
        self.http = requests.Session()
        self.misses = Misses(target.name, log, noun="app pool")
        self.problems: dict[str, str] = {}

    def collect(self) -> Iterable[Sample]:
        t = self.target
        out: list[Sample] = []
        errors: dict[str, str] = {}
        self.problems = {}
        pools: list[dict] = []
        max_conn = float(t.max_connections) if t.max_connections else None
        sources: list[tuple[str, Callable[[], tuple[list[Sample], list[dict], float | None]]]] = []
        if t.pgbouncer:
            sources.append(("pgbouncer", self._pgbouncer))
        for a in t.apps:
            sources.append((f"app:{a.name}", partial(self._app, a)))
        if self.server:
            sources.append(("server", self._server))
        for name, fn in sources:
            try:
                samples, found, mc = fn()
            except (CollectorError, psycopg.Error, ValueError) as exc:
                errors[name] = str(exc) if isinstance(exc, CollectorError) else describe(exc)
                ok = 0.0
            else:
                out += samples
                pools += found
                max_conn = mc or max_conn
                ok = 1.0
            out.append(Sample("lookout_pool_source_up", ok, {"source": name},
                              help="1 if the pool source answered on the last poll, else 0."))
        if t.pgbouncer:
            out.append(Sample(pgbouncer_names.UP[0], 0.0 if "pgbouncer" in errors else 1.0, help=pgbouncer_names.UP[1]))
        if errors and len(errors) == len(sources):
            raise CollectorError("; ".join(f"{k}: {v}" for k, v in errors.items()))
        out += derived(pools, t.apps, max_conn)
        out += self.misses.samples()
        self.documents["pool_errors"] = errors
        self.documents["pools"] = pools
        self.documents["probes"] = {
            name: {"ok": name not in errors and name not in self.problems,
                   "reason": "down" if name in errors else "mapping_miss" if name in self.problems else None,
                   "error": errors.get(name) or self.problems.get(name)} for name, _ in sources}
        return out

    def _pgbouncer(self) -> tuple[list[Sample], list[dict], None]:
        if self.bouncer is None or self.bouncer.closed or self.bouncer.broken:
            try:
                self.bouncer = pgbouncer.connect(self.target.pgbouncer.dsn, min(5.0, self.target.timeout))
            except psycopg.Error as exc:
                where = safe_dsn(self.target.pgbouncer.dsn)
                raise CollectorError(f"cannot connect to {where}: {describe(exc)}") from None
        try:
            data = pgbouncer.read(self.bouncer)
        except psycopg.Error:
            self.bouncer.close()
            self.bouncer = None
            raise
        samples, pools = pgbouncer.samples(data)
        return samples, pools, None

    def _self_samples(self, batch: Batch) -> list[Sample]:
        out = super()._self_samples(batch)
        # A target that failed as a whole (or timed out) still says pgbouncer_up 0, as the exporter does.
        if self.target.pgbouncer and not any(s.name == pgbouncer_names.UP[0] for s in batch.samples):
            out.insert(0, Sample(pgbouncer_names.UP[0], 0.0, help=pgbouncer_names.UP[1]))
        return out

    def _app(self, a: AppPool) -> tuple[list[Sample], list[dict], float | None]:
        timeout = min(5.0, self.target.timeout or 5.0)
        if a.url:
            resp = app.fetch(self.http, a.url, timeout)
            values, problems = app.from_json(resp.json(), a.fields)
        else:
            assert a.metrics_url is not None  # AppPool's validator: url or metrics_url
            values, problems = app.from_prometheus(app.fetch(self.http, a.metrics_url, timeout).text, a.fields,
                                                   a.match_labels)
        for path in a.fields.values():
            self.misses.seen(a.name, path, problems.get(path) != app.NOTHING)
        if problems:
            self.problems[f"app:{a.name}"] = "; ".join(f"{'metric' if a.metrics_url else 'path'} {p!r} {why}"
                                                       for p, why in problems.items())
        v = app.complete(values)
        return [], [{"pool": a.name, **v}], None

    def _server(self) -> tuple[list[Sample], list[dict], float | None]:
        assert self.server is not None  # a source only when server: is set
        rows = self.server.run([
            "SELECT coalesce(application_name, '') AS application_name, count(*) AS n FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' GROUP BY 1 ORDER BY 2 DESC LIMIT 200",
            "SELECT current_setting('max_connections')::float8 AS max_connections",
        ])
        mc = num(rows[1][0]["max_connections"])
        out = [Sample("lookout_pool_server_connections", num(r["n"]), {"application_name": r["application_name"]},
                      help="Client connections on the server per application_name.") for r in rows[0]]
        total = sum(num(r["n"]) or 0.0 for r in rows[0])
        out.append(Sample("lookout_pool_server_max_connections", mc, help="The server's max_connections."))
        out.append(Sample("lookout_pool_server_utilization_ratio", total / mc if mc else float("nan"),
                          help="Client connections on the server / max_connections."))
        return out, [], mc

    def close(self) -> None:
        if self.bouncer is not None:
            self.bouncer.close()
            self.bouncer = None
        if self.server:
            self.server.close()
        self.http.close()


def derived(pools: list[dict], apps: list[AppPool], max_connections: float | None) -> list[Sample]:
    """Utilisation, waiting clients and the connection budget: pure."""
    out = []
    for p in pools:
        lab = {"pool": p["pool"]}
        for role, metric, help_ in [("in_use", "lookout_pool_in_use_connections", "Connections of the pool in use."),
                                    ("idle", "lookout_pool_idle_connections", "Idle connections of the pool."),
                                    ("max", "lookout_pool_max_connections", "Maximum size of the pool."),
                                    ("waiting", "lookout_pool_waiting_clients", "Clients waiting for a connection.")]:
            if p.get(role) is not None:
                out.append(Sample(metric, p[role], lab, help=help_))
        if p.get("in_use") is not None and p.get("max"):
            out.append(Sample("lookout_pool_utilization_ratio", p["in_use"] / p["max"], lab,
                              help="Connections in use / pool maximum."))
    reported = {p["pool"]: p.get("max") for p in pools}
    budget = 0.0
    for a in apps:
        size = a.pool_size or reported.get(a.name)
        if size:
            budget += size * a.processes
    if apps and budget:
        out.append(Sample("lookout_pool_connection_budget_connections", budget,
                          help="Sum over the configured applications of pool size x processes."))
        if max_connections:
            out.append(Sample("lookout_pool_connection_budget_ratio", budget / max_connections,
                              help="Connection budget / the server's max_connections "
                                   "(above 1: pools can exhaust the server)."))
    return out
