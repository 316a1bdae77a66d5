"""pgbouncer_exporter's names for PgBouncer's admin console, as tables.

Taken from prometheus-community/pgbouncer_exporter v0.12.1 (collector.go): the
metric, its type, unit scale and help per console column. Pure data: the
mapping itself is in :mod:`collectors.pool.pgbouncer`. What differs from the
exporter, and why, is in docs/exporter-compatibility.md.
"""
from __future__ import annotations

from collectors.postgres.rows import Column

# SHOW DATABASES: labels as the exporter gives them (NULL -> "").
DATABASE_LABELS = ("name", "host", "port", "database", "force_user", "pool_mode")
DATABASES: list[Column] = [
    (c, f"pgbouncer_databases_{m}", "gauge", 1, h) for c, m, h in [
        ("pool_size", "pool_size", "Maximum number of server connections"),
        ("reserve_pool", "reserve_pool", "Maximum number of additional connections for this database"),
        # PgBouncer 1.24 renamed the column; the exporter keeps the metric name.
        ("reserve_pool_size", "reserve_pool", "Maximum number of additional connections for this database"),
        ("max_connections", "max_connections", "Maximum number of allowed connections for this database"),
        ("current_connections", "current_connections", "Current number of connections for this database"),
        ("paused", "paused", "1 if this database is currently paused, else 0"),
        ("disabled", "disabled", "1 if this database is currently disabled, else 0"),
    ]
]

# SHOW POOLS, labels database and user. maxwait is whole seconds, as the exporter reports it.
POOLS: list[Column] = [
    (c, f"pgbouncer_pools_{m}", "gauge", 1, h) for c, m, h in [
        ("cl_active", "client_active_connections",
         "Client connections linked to server connection and able to process queries, shown as connection"),
        ("cl_active_cancel_req", "client_active_cancel_connections",
         "Client connections that have forwarded query cancellations to the server and are waiting for the "
         "server response"),
        ("cl_waiting", "client_waiting_connections",
         "Client connections waiting on a server connection, shown as connection"),
        ("cl_waiting_cancel_req", "client_waiting_cancel_connections",
         "Client connections that have not forwarded query cancellations to the server yet"),
        ("sv_active", "server_active_connections",
         "Server connections linked to a client connection, shown as connection"),
        ("sv_active_cancel", "server_active_cancel_connections",
         "Server connections that are currently forwarding a cancel request."),
        ("sv_being_canceled", "server_being_canceled_connections",
         "Servers that normally could become idle but are waiting to do so until all in-flight cancel requests "
         "have completed that were sent to cancel a query on this server."),
        ("sv_idle", "server_idle_connections",
         "Server connections idle and ready for a client query, shown as connection"),
        ("sv_used", "server_used_connections",
         "Server connections idle more than server_check_delay, needing server_check_query, shown as connection"),
        ("sv_tested", "server_testing_connections",
         "Server connections currently running either server_reset_query or server_check_query, shown as "
         "connection"),
        ("sv_login", "server_login_connections",
         "Server connections currently in the process of logging in, shown as connection"),
        ("maxwait", "client_maxwait_seconds", "Age of oldest unserved client connection, shown as second"),
    ]
]

# SHOW STATS_TOTALS, label database: (column, name suffix, scale, help, also under the old prefix).
_STATS = [
    ("query_count", "queries_pooled_total", 1, "Total number of SQL queries pooled", True),
    ("query_time", "queries_duration_seconds_total", 1e-6,
     "Total number of seconds spent by pgbouncer when actively connected to PostgreSQL, executing queries", True),
    ("bytes_received", "received_bytes_total", 1,
     "Total volume in bytes of network traffic received by pgbouncer, shown as bytes", True),
    ("bytes_sent", "sent_bytes_total", 1,
     "Total volume in bytes of network traffic sent by pgbouncer, shown as bytes", True),
    ("wait_time", "client_wait_seconds_total", 1e-6, "Time spent by clients waiting for a server in seconds", True),
    ("xact_count", "sql_transactions_pooled_total", 1, "Total number of SQL transactions pooled", True),
    ("xact_time", "server_in_transaction_seconds_total", 1e-6,
     "Total number of seconds spent by pgbouncer when connected to PostgreSQL in a transaction, either idle in "
     "transaction or executing queries", True),
    # PgBouncer 1.23/1.24 columns: only the newest exporter names them.
    ("client_parse_count", "client_parses_total", 1,
     "Total number of prepared statement Parse messages received from clients", False),
    ("server_parse_count", "server_parses_total", 1,
     "Total number of prepared statement Parse messages sent by pgbouncer to PostgreSQL", False),
    ("bind_count", "binds_total", 1,
     "Total number of prepared statements readied for execution with a Bind message", False),
    ("server_assignment_count", "server_assignments_total", 1,
     "Total number of client connections which have been served since process start", False),
]
# Since v0.11 the exporter reads SHOW STATS_TOTALS and names it pgbouncer_stats_totals_*; v0.4 to
# v0.10 named the same totals pgbouncer_stats_*, which published dashboards still query: both are served.
STATS: list[Column] = [(c, f"pgbouncer_stats_totals_{m}", "counter", s, h) for c, m, s, h, _ in _STATS] + [
    (c, f"pgbouncer_stats_{m}", "counter", s, h) for c, m, s, h, old in _STATS if old]

# SHOW LISTS rows (no labels).
LISTS: dict[str, tuple[str, str]] = {
    "databases": ("pgbouncer_databases", "Count of databases"),
    "users": ("pgbouncer_users", "Count of users"),
    "pools": ("pgbouncer_pools", "Count of pools"),
    "free_clients": ("pgbouncer_free_clients", "Count of free clients"),
    "used_clients": ("pgbouncer_used_clients", "Count of used clients"),
    "login_clients": ("pgbouncer_login_clients", "Count of clients in login state"),
    "free_servers": ("pgbouncer_free_servers", "Count of free servers"),
    "used_servers": ("pgbouncer_used_servers", "Count of used servers"),
    "dns_names": ("pgbouncer_cached_dns_names", "Count of DNS names in the cache"),
    "dns_zones": ("pgbouncer_cached_dns_zones", "Count of DNS zones in the cache"),
    "dns_queries": ("pgbouncer_in_flight_dns_queries", "Count of in-flight DNS queries"),
}

# SHOW CONFIG keys (no labels).
CONFIG: dict[str, tuple[str, str]] = {
    "max_client_conn": ("pgbouncer_config_max_client_connections", "Config maximum number of client connections"),
    "max_user_connections": ("pgbouncer_config_max_user_connections",
                             "Config maximum number of server connections per user"),
}

# SHOW CLIENTS, counted per (database, user, application_name, state).
CLIENT_LABELS = ("database", "user", "application_name", "state")
CLIENTS = ("pgbouncer_client_connections",
           "Number of client connections grouped by database, user, application name, and state")
VERSION = ("pgbouncer_version_info", "The pgbouncer version info")
UP = ("pgbouncer_up", "The pgbouncer scrape succeeded")
