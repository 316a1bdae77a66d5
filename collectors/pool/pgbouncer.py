"""PgBouncer's admin console under pgbouncer_exporter's names.

``read()`` runs the SHOW commands the exporter runs; ``samples()`` maps their
rows to samples (pure: recorded rows in, samples out), with the tables of
:mod:`collectors.pool.pgbouncer_names`. The console accepts no transactions
and one command per query, so the connection is autocommit with prepared
statements off.

Lookout's own console connection is a client like the exporter's: it shows in
``pgbouncer_used_clients``, the ``pgbouncer`` pool's
``pgbouncer_pools_client_active_connections`` and in
``pgbouncer_client_connections`` (there with ``application_name="lookout"``),
as the exporter's own connection shows in its output.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.rows import dict_row

from collectors.pool import pgbouncer_names as names
from collectors.postgres.rows import mapped, num
from core.samples import Sample

COMMANDS = ("VERSION", "LISTS", "CONFIG", "CLIENTS", "POOLS", "STATS_TOTALS", "DATABASES")
APPLICATION_NAME = "lookout"


def connect(dsn: str, timeout: float) -> psycopg.Connection:
    """A console connection named ``lookout`` (unless the DSN names one)."""
    params: dict[str, Any] = psycopg.conninfo.conninfo_to_dict(dsn)
    params.setdefault("application_name", APPLICATION_NAME)
    params.setdefault("connect_timeout", max(1, int(timeout)))
    return psycopg.connect(autocommit=True, prepare_threshold=None, **params)


def read(conn: psycopg.Connection) -> dict[str, list[dict[str, Any]]]:
    """Rows of every SHOW command, keyed by the command in lower case."""
    out = {}
    with conn.cursor(row_factory=dict_row) as cur:
        for what in COMMANDS:
            cur.execute(f"SHOW {what}")
            out[what.lower()] = cur.fetchall()
    return out


def _label(value: Any) -> str:
    return "" if value is None else str(value)


def _keyed(rows: list[dict[str, Any]], key: str, value: str,
           table: Mapping[str, tuple[str, str]]) -> list[Sample]:
    """SHOW LISTS / SHOW CONFIG: one row per name; only the names in ``table``."""
    out = []
    for r in rows:
        metric = table.get(r[key])
        v = num(r[value]) if metric else None
        if metric and v is not None:
            out.append(Sample(metric[0], v, help=metric[1]))
    return out


def samples(data: Mapping[str, list[dict[str, Any]]]) -> tuple[list[Sample], list[dict]]:
    """pgbouncer_* samples and, per pool, {pool, in_use, max, waiting} for the derived series."""
    out: list[Sample] = [Sample(names.VERSION[0], 1.0, {"version": _label(r["version"])}, help=names.VERSION[1])
                         for r in data.get("version", [])]
    out += _keyed(data.get("lists", []), "list", "items", names.LISTS)
    out += _keyed(data.get("config", []), "key", "value", names.CONFIG)
    clients = Counter(tuple(_label(c.get(k)) for k in names.CLIENT_LABELS) for c in data.get("clients", []))
    out += [Sample(names.CLIENTS[0], float(n), dict(zip(names.CLIENT_LABELS, key, strict=True)),
                   help=names.CLIENTS[1]) for key, n in sorted(clients.items())]
    sizes = {}
    for d in data.get("databases", []):
        out += mapped(d, names.DATABASES, {k: _label(d.get(k)) for k in names.DATABASE_LABELS})
        sizes[d["name"]] = num(d.get("pool_size"))
    for s in data.get("stats_totals", []):
        out += mapped(s, names.STATS, {"database": _label(s["database"])})
    pools = []
    for p in data.get("pools", []):
        out += mapped(p, names.POOLS, {"database": _label(p["database"]), "user": _label(p["user"])})
        if p["database"] == "pgbouncer":  # the admin console itself
            continue
        pools.append({"pool": f"pgbouncer/{p['database']}/{p['user']}", "in_use": num(p["sv_active"]),
                      "max": sizes.get(p["database"]), "waiting": num(p["cl_waiting"])})
    return out, pools
