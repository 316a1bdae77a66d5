"""PgBouncer's admin console: SHOW POOLS, SHOW STATS, SHOW DATABASES.

Names follow pgbouncer_exporter. Row mapping is pure (rows -> samples); the
console accepts no transactions, so the connection is autocommit with
prepared statements off.
"""
from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from collectors.postgres.rows import Column, mapped, num
from core.samples import Sample

POOLS: list[Column] = [
    (c, f"pgbouncer_pools_{m}", "gauge", 1, h) for c, m, h in [
        ("cl_active", "client_active_connections", "Client connections linked to server connection and able to process queries"),
        ("cl_waiting", "client_waiting_connections", "Client connections waiting on a server connection"),
        ("cl_active_cancel_req", "client_active_cancel_connections", "Client connections that have forwarded query cancellations to the server"),
        ("cl_waiting_cancel_req", "client_waiting_cancel_connections", "Client connections that have not forwarded query cancellations to the server yet"),
        ("sv_active", "server_active_connections", "Server connections linked to a client connection"),
        ("sv_active_cancel", "server_active_cancel_connections", "Server connections that are currently forwarding a cancel request"),
        ("sv_being_canceled", "server_being_canceled_connections", "Servers waiting for in-flight cancel requests to complete"),
        ("sv_idle", "server_idle_connections", "Server connections idle and ready for a client query"),
        ("sv_used", "server_used_connections", "Server connections idle more than server_check_delay"),
        ("sv_tested", "server_testing_connections", "Server connections currently running server_reset_query or server_check_query"),
        ("sv_login", "server_login_connections", "Server connections currently in the process of logging in"),
        ("maxwait", "client_maxwait_seconds", "Age of oldest unserved client connection"),
    ]
]
# SHOW STATS names its totals total_*; SHOW STATS_TOTALS (and the exporter) without the prefix.
_STATS = [
    ("query_count", "queries_pooled_total", 1, "Total number of SQL queries pooled"),
    ("xact_count", "sql_transactions_pooled_total", 1, "Total number of SQL transactions pooled"),
    ("received", "received_bytes_total", 1, "Total volume in bytes of network traffic received by pgbouncer"),
    ("sent", "sent_bytes_total", 1, "Total volume in bytes of network traffic sent by pgbouncer"),
    ("query_time", "queries_duration_seconds_total", 1e-6, "Total number of seconds spent by pgbouncer when actively connected to PostgreSQL, executing queries"),
    ("xact_time", "server_in_transaction_seconds_total", 1e-6, "Total number of seconds spent by pgbouncer when connected to PostgreSQL in a transaction"),
    ("wait_time", "client_wait_seconds_total", 1e-6, "Time spent by clients waiting for a server in seconds"),
]
STATS: list[Column] = [(f"total_{c}", f"pgbouncer_stats_{m}", "counter", s, h) for c, m, s, h in _STATS] + [
    (c, f"pgbouncer_stats_{m}", "counter", s, h) for c, m, s, h in _STATS]
DATABASES: list[Column] = [
    ("pool_size", "pgbouncer_databases_pool_size", "gauge", 1, "Maximum number of server connections"),
    ("reserve_pool", "pgbouncer_databases_reserve_pool", "gauge", 1, "Maximum number of additional connections for this database"),
    ("max_connections", "pgbouncer_databases_max_connections", "gauge", 1, "Maximum number of allowed connections for this database"),
    ("current_connections", "pgbouncer_databases_current_connections", "gauge", 1, "Current number of connections for this database"),
    ("paused", "pgbouncer_databases_paused", "gauge", 1, "1 if this database is currently paused, else 0"),
    ("disabled", "pgbouncer_databases_disabled", "gauge", 1, "1 if this database is currently disabled, else 0"),
]


def read(conn: psycopg.Connection) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for what in ("POOLS", "STATS", "DATABASES"):
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(f"SHOW {what}")
            out[what.lower()] = cur.fetchall()
    return out


def samples(data: dict[str, list[dict]]) -> tuple[list[Sample], list[dict]]:
    """pgbouncer_* samples and, per pool, {pool, in_use, max, waiting} for the derived series."""
    out: list[Sample] = []
    sizes = {}
    for d in data["databases"]:
        lab = {k: "" if d.get(k) is None else str(d[k]) for k in ("name", "host", "port", "database", "force_user", "pool_mode")}
        out += mapped(d, DATABASES, lab)
        sizes[d["name"]] = num(d.get("pool_size"))
    for s in data["stats"]:
        out += mapped(s, STATS, {"database": s["database"]})
    pools = []
    for p in data["pools"]:
        out += mapped(p, POOLS, {"database": p["database"], "user": p["user"]})
        if p["database"] == "pgbouncer":  # the admin console itself
            continue
        pools.append({"pool": f"pgbouncer/{p['database']}/{p['user']}", "in_use": num(p["sv_active"]),
                      "max": sizes.get(p["database"]), "waiting": num(p["cl_waiting"])})
    return out, pools
