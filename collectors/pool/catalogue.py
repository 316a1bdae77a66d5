"""The metrics of ``kind: pool``: PgBouncer's (pgbouncer_exporter's names, from ``pgbouncer_names``),
the server's connections, and the normalised per-pool series."""
from __future__ import annotations

from collectors.catalogue import Metric, from_table
from collectors.jsonpath import MISSES_METRIC
from collectors.pool import pgbouncer_names as names

_POOL = ("pool",)


def _m(name: str, family: str, labels: tuple[str, ...], help_: str) -> Metric:
    return Metric(name, "gauge", help_, "pool", family, labels)


METRICS: list[Metric] = [
    _m("lookout_pool_source_up", "sources", ("source",), "1 if the pool source answered on the last poll, else 0."),
    _m(names.UP[0], "pgbouncer", (), names.UP[1]),
    _m(names.VERSION[0], "pgbouncer", ("version",), names.VERSION[1]),
    *[_m(metric, "pgbouncer", (), help_) for metric, help_ in [*names.LISTS.values(), *names.CONFIG.values()]],
    _m(names.CLIENTS[0], "pgbouncer", names.CLIENT_LABELS, names.CLIENTS[1]),
    *from_table(names.DATABASES, kind="pool", family="pgbouncer", labels=names.DATABASE_LABELS),
    *from_table(names.STATS, kind="pool", family="pgbouncer", labels=("database",)),
    *from_table(names.POOLS, kind="pool", family="pgbouncer", labels=("database", "user")),
    _m("lookout_pool_server_connections", "server", ("application_name",),
       "Client connections on the server per application_name."),
    _m("lookout_pool_server_max_connections", "server", (), "The server's max_connections."),
    _m("lookout_pool_server_utilization_ratio", "server", (), "Client connections on the server / max_connections."),
    _m("lookout_pool_in_use_connections", "pools", _POOL, "Connections of the pool in use."),
    _m("lookout_pool_idle_connections", "pools", _POOL, "Idle connections of the pool."),
    _m("lookout_pool_max_connections", "pools", _POOL, "Maximum size of the pool."),
    _m("lookout_pool_waiting_clients", "pools", _POOL, "Clients waiting for a connection."),
    _m("lookout_pool_utilization_ratio", "pools", _POOL, "Connections in use / pool maximum."),
    _m("lookout_pool_connection_budget_connections", "budget", (),
       "Sum over the configured applications of pool size x processes."),
    _m("lookout_pool_connection_budget_ratio", "budget", (),
       "Connection budget / the server's max_connections (above 1: pools can exhaust the server)."),
    Metric(MISSES_METRIC, "counter", "Answers in which a configured JSON path (or a metric name) matched nothing.",
           "pool", "apps", ("probe", "path")),
]
