"""The ``targets:`` of the starter config, one block per part found, each with its comment."""
from __future__ import annotations

from typing import Any

from discover import business, postgres, proposals
from discover.findings import Findings
from discover.prom import DEFAULT_ROUTE_LABELS, DEFAULT_STATUS_LABELS
from discover.shapes import CACHE_HEADERS
from discover.yamltext import flow

DB, CACHE, POOL, API, BUSINESS = "db", "cache", "pool", "api", "business"
PAYMENTS = proposals.PAYMENTS


def targets(f: Findings) -> list[str]:
    return _postgres(f) + _redis(f) + _pool(f) + _http(f) + _sql(f)


def _postgres(f: Findings) -> list[str]:
    pg = f.postgres
    if pg is None:
        return []
    out = [f"  # PostgreSQL {pg.version}, {'a replica' if pg.replica else 'primary'}; role {pg.user}"
           + ("" if pg.monitor else f" lacks pg_monitor (GRANT pg_monitor TO {pg.user};)") + ".",
           f"  - name: {DB}", "    kind: postgres", f"    dsn: {flow(pg.dsn)}"]
    others = [d for d in pg.databases if d != pg.dbname]
    if pg.dbname != "postgres":  # the DSN names the application's database: watch that one
        out.append(f"    databases: {flow([pg.dbname])}"
                   + (f"   # also on the server: {_names(others)}" if others else ""))
    elif others:
        out.append(f"    # databases: omitted, so every database is watched (at most max_databases, 10): "
                   f"{_names(pg.databases)}")
    if not pg.pg_stat_statements:
        out += ["    # pg_stat_statements (per-query times, the query_mean promise) is not readable: "
                + postgres.pgss_reason(pg) + "."]
        out += ["    #   " + line for line in postgres.enable_lines(pg)]
        out += ["    #   then drop the query_mean override under promises and add the pg_query_mean_time rule"
                " (alerts/default_rules.yaml)."]
    return out + [""]


def _names(names: list[str], most: int = 12) -> str:
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


def _redis(f: Findings) -> list[str]:
    r = f.redis
    if r is None:
        return []
    dbs = ", ".join(f"db{d}: {n} keys" for d, n in sorted(r.keyspace.items())) or "no keys yet"
    out = [f"  # Redis {r.version}, role {r.role}, {r.databases or '?'} databases ({dbs}). Hits and misses are "
           "server-wide, whatever the db.",
           f"  - name: {CACHE}", "    kind: redis", f"    url: {flow(r.url)}"]
    if r.username:
        out.append(f"    username: {flow(r.username)}")
    if r.password_env:
        out.append(f"    password: {flow('${' + r.password_env + '}')}")
    return out + [""]


def _pool(f: Findings) -> list[str]:
    app = f.app
    pool = app.pool if app else None
    if pool is None and f.pgbouncer is None and f.postgres is None:
        return []
    out = ["  # Connection pools: the application's own, PgBouncer's, and the server's connections per "
           "application_name.", f"  - name: {POOL}", "    kind: pool"]
    if pool is not None:
        entry: dict[str, Any] = {"name": "app"}
        if pool.url:
            entry["url"] = pool.url
        else:
            entry["metrics_url"] = pool.metrics_url
        entry["fields"] = pool.fields
        if pool.match_labels:
            entry["match_labels"] = pool.match_labels
        out += [f"    apps:   # {pool.shape}; fields are JSON paths (url) or metric names (metrics_url)",
                f"      - name: {entry.pop('name')}"]
        out += [f"        {k}: {flow(v)}" for k, v in entry.items()]
        out += ["        processes: 1   # how many processes each hold such a pool (for the connection budget)"]
    if f.pgbouncer is not None:
        out.append(f"    pgbouncer: {{dsn: {flow(f.pgbouncer.dsn)}}}   # {f.pgbouncer.version}")
    if f.postgres is not None:
        out.append(f"    server: {{dsn: {flow(f.postgres.dsn)}}}")
    return out + [""]


def _http(f: Findings) -> list[str]:
    app = f.app
    if app is None:
        return []
    probes: list[list[str]] = []
    if app.health is not None:
        h = app.health
        lines = ["      - name: health", f"        url: {flow(h.path)}"]
        if h.mapping is not None:
            lines.insert(0, f"      # {h.shape}: one series per dependency (lookout_http_dependency_up)")
            lines.append(f"        health: {flow(h.mapping)}")
        elif h.expect_json is not None:
            lines.append(f"        expect_json: {flow(h.expect_json)}")
        probes.append(lines)
    m = app.metrics
    if m is not None and app.metrics_path:
        prom: dict[str, Any] = {}
        if m.histogram:
            prom["histogram"] = m.histogram
        if m.counter:
            prom["counter"] = m.counter
        if m.route_label and m.route_label not in DEFAULT_ROUTE_LABELS:
            prom["route_labels"] = [m.route_label]
        if m.status_label and m.status_label not in DEFAULT_STATUS_LABELS:
            prom["status_labels"] = [m.status_label]
        keep = [n for n in (m.histogram, m.counter) if n]
        lines = ["      # re-exported: the families the promises read (drop allow: to keep every family)"
                 if keep else "      # re-exports every family of the application",
                 "      - name: metrics", f"        url: {flow(app.metrics_path)}"]
        if keep:
            prom["allow"] = keep
        lines.append(f"        prometheus: {flow(prom)}" if prom else "        prometheus: {}")
        probes.append(lines)
    if app.cache is not None:
        paths, header, value = app.cache
        hits, misses = CACHE_HEADERS[header]
        lines = [f"      # {header}: {value} seen here; these reads each poll, not the real traffic: for its hit rate "
                 "prefer the application's own cache counters",
                 "      - name: cache",
                 f"        urls: {flow(paths)}" if len(paths) > 1 else f"        url: {flow(paths[0])}",
                 f"        cache_header: {header}"]
        if hits != ["HIT"]:
            lines.append(f"        cache_hit_values: {flow(hits)}")
        if misses != ["MISS"]:
            lines.append(f"        cache_miss_values: {flow(misses)}")
        probes.append(lines)
    if not probes:
        probes.append(["      # nothing recognised: the base URL answers, so watch it", "      - name: home",
                       "        url: /", "        expect_status: [2xx, 3xx, 4xx]"])
    out = [f"  - name: {API}", "    kind: http", f"    base_url: {flow(app.base_url)}", "    probes:"]
    for lines in probes:
        out += lines
    return out + [""]


def _sql(f: Findings) -> list[str]:
    pg = f.postgres
    if pg is None:
        return []
    pay = pg.payments
    if pay is None:
        return _sql_example(f)
    column = sql_ident(pay.column) + ("" if pay.column == "status" else " AS status")
    table = ".".join(sql_ident(p) for p in ([pay.schema] if pay.schema != "public" else []) + [pay.table])
    query = f"SELECT {column}, count(*) FROM {table} GROUP BY 1"
    seen = ", ".join(pay.statuses) or "no rows yet"
    return [f"  # Payments: rows of {pay.qualified} by {pay.column} ({seen}). A GROUP BY over the "
            "whole table each minute: on a large table, index the column or count from a summary table.",
            f"  - name: {BUSINESS}", "    kind: sql", f"    url: {flow(business.sqlalchemy_url(pg.dsn))}",
            "    interval: 1m", "    queries:", "      - name: payments_total", f"        metric: {PAYMENTS}",
            "        kind: counter", f"        help: {flow(f'Payments (rows of {pay.qualified}) by status.')}",
            "        allow_empty: true   # no row yet: no series rather than an error",
            f"        sql: {flow(query)}", ""]


def sql_ident(name: str) -> str:
    return name if name.isidentifier() and name.islower() else '"' + name.replace('"', '""') + '"'


def _sql_example(f: Findings) -> list[str]:
    if f.postgres is None:
        return []
    return ["  # Business numbers (payments, orders) come from your own tables: a `kind: sql` target, e.g.",
            "  # - name: business",
            "  #   kind: sql",
            f"  #   url: {f.postgres.dsn.replace('postgresql://', 'postgresql+psycopg://', 1)}",
            "  #   queries:",
            "  #     - name: payments_total",
            "  #       metric: shop_payments_total",
            "  #       kind: counter",
            "  #       help: Payments by outcome (status).",
            "  #       sql: SELECT status, count(*) FROM payments GROUP BY status",
            "  # (columns before the last become labels; the last is the value).", ""]
