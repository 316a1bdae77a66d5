"""The metrics of ``kind: postgres``, by family, with each family's default interval.

The mapping tables of the family modules (``DATABASE``, ``BGWRITER``, ``TABLES``, ...) are
read as they are; the samples the mappers build inline are listed here.
"""
from __future__ import annotations

from collectors.catalogue import Metric, from_table
from collectors.postgres import server, sessions, statements, tables
from collectors.postgres.compat import COLLECTORS
from collectors.postgres.families import FAMILIES

_INTERVAL = {f.name: f.interval for f in FAMILIES}
_DB = ("datname",)
_TABLE = ("datname", "schemaname", "relname")
_SLOT = ("slot_name", "slot_type", "database")
_SLOT_TYPE = ("slot_name", "slot_type")
_REPLICA = ("application_name", "client_addr", "state", "slot_name")


def _family(family: str, rows: list[tuple[str, str, tuple[str, ...], str]]) -> list[Metric]:
    return [Metric(name, type_, help_, "postgres", family, labels, _INTERVAL[family])
            for name, type_, labels, help_ in rows]


METRICS: list[Metric] = [
    Metric("pg_up", "gauge", "Whether the last scrape of the server was able to connect (1) or not (0).",
           "postgres", "instance"),
    Metric("lookout_pg_family_up", "gauge", "1 if the family's statements succeeded on their last run, else 0 "
           "(see the pg_errors document).", "postgres", "every family", ("family", "datname")),
    # postgres_exporter's own health, per target (collectors/postgres/compat.py).
    Metric("pg_exporter_last_scrape_duration_seconds", "gauge", "Duration of the last scrape of metrics from "
           "PostgreSQL.", "postgres", "every family"),
    Metric("pg_exporter_last_scrape_error", "gauge", "Whether the last scrape of metrics from PostgreSQL resulted "
           "in an error (1 for error, 0 for success).", "postgres", "every family"),
    Metric("pg_exporter_scrapes_total", "counter", "Total number of times PostgreSQL was scraped for metrics.",
           "postgres", "every family"),
    Metric("pg_scrape_collector_success", "gauge", "postgres_exporter: Whether a collector succeeded "
           f"(collector: {', '.join(sorted(COLLECTORS))}).", "postgres", "every family", ("collector",)),
]
METRICS += _family("instance", [
    ("pg_static", "gauge", ("version", "short_version", "server"), "Version string as reported by postgres."),
    ("pg_postmaster_start_time_seconds", "gauge", (), "Time at which postmaster started."),
    ("lookout_pg_uptime_seconds", "gauge", (), "Seconds since the postmaster started."),
])
METRICS += _family("settings", [
    ("pg_settings_<setting>", "gauge", (), "Server Parameter: one series per numeric or boolean setting "
     "(booleans 0/1), the server's value, converted to base units as postgres_exporter: `_bytes` or "
     "`_seconds` appended where the setting has a unit (pg_settings_max_connections, "
     "pg_settings_shared_buffers_bytes)."),
    ("pg_database_connection_limit", "gauge", _DB, "Connection limit set for the database"),
    ("pg_roles_connection_limit", "gauge", ("rolname",), "Connection limit set for the role"),
])
METRICS += from_table(server.DATABASE, kind="postgres", family="database", labels=("datid", "datname"))
METRICS += from_table(server.CONFLICTS, kind="postgres", family="database", labels=("datid", "datname", "server"))
METRICS += _family("database", [
    ("lookout_pg_database_cache_hit_ratio", "gauge", _DB,
     "Share of block requests served from the buffer cache since the previous poll."),
])
METRICS += _family("activity", [
    ("pg_stat_activity_count", "gauge", sessions.ACTIVITY_LABELS, "number of connections in this state"),
    ("pg_stat_activity_max_tx_duration", "gauge", sessions.ACTIVITY_LABELS,
     "max duration in seconds any active transaction has been running"),
    ("lookout_pg_stat_activity_by_application_sessions", "gauge", ("application_name", "state"),
     "Client connections by application_name and state."),
    ("lookout_pg_stat_activity_waiting_sessions", "gauge", ("wait_event_type", "wait_event"),
     "Client connections waiting, by wait event."),
    ("lookout_pg_stat_activity_max_query_duration_seconds", "gauge", (), "Age of the longest running active query."),
    ("lookout_pg_idle_in_transaction_sessions", "gauge", (), "Client connections idle in a transaction."),
    ("lookout_pg_idle_in_transaction_max_age_seconds", "gauge", (),
     "Longest time a connection has been idle in a transaction."),
    ("pg_stat_progress_vacuum_phase", "gauge", ("datname", "relname", "phase"),
     "Current vacuum phase (1 = active, 0 = inactive). Label 'phase' is human-readable."),
    *[(f"pg_stat_progress_vacuum_{name}", "gauge", ("datname", "relname"), help_)
      for _col, name, help_ in sessions._VACUUM],
])
METRICS += _family("locks", [
    ("pg_locks_count", "gauge", ("datname", "mode"), "Number of locks"),
    ("lookout_pg_blocked_sessions", "gauge", (), "Sessions waiting for a lock held by another session."),
    ("lookout_pg_blocked_max_wait_seconds", "gauge", (), "Longest time a blocked session has been waiting."),
])
METRICS += from_table(server.BGWRITER, kind="postgres", family="bgwriter")
METRICS += from_table(server.CHECKPOINTER, kind="postgres", family="bgwriter")
METRICS += _family("wal", [
    ("lookout_pg_wal_lsn_bytes", "gauge", (), "Current WAL write position in bytes (primary only)."),
])
METRICS += from_table(server.WAL, kind="postgres", family="wal")
METRICS += from_table(server.ARCHIVER, kind="postgres", family="wal")
METRICS += _family("replication", [
    ("pg_replication_lag_seconds", "gauge", (), "Replication lag behind master in seconds"),
    ("pg_replication_is_replica", "gauge", (), "Indicates if the server is a replica"),
    ("pg_replication_last_replay_seconds", "gauge", (), "Age of last replay in seconds"),
    ("pg_replication_lag", "gauge", (), "Replication lag behind master in seconds (the exporter's older name: "
     "the age of the last replayed transaction on a replica)"),
    ("lookout_pg_replication_replicas", "gauge", (), "Number of connected WAL senders (replicas)."),
    ("pg_stat_replication_pg_current_wal_lsn_bytes", "gauge", _REPLICA, "WAL position in bytes"),
    ("pg_stat_replication_pg_wal_lsn_diff", "gauge", _REPLICA, "Lag in bytes between master and slave"),
    ("lookout_pg_replication_replay_lag_seconds", "gauge", ("application_name", "client_addr"),
     "Replay lag of the replica in seconds (0 when idle)."),
    ("lookout_pg_replication_write_lag_seconds", "gauge", ("application_name", "client_addr"),
     "Write lag of the replica in seconds (0 when idle)."),
    ("lookout_pg_replication_flush_lag_seconds", "gauge", ("application_name", "client_addr"),
     "Flush lag of the replica in seconds (0 when idle)."),
    ("pg_replication_slots_active", "gauge", ("slot_name", "database"), "Flag indicating if the slot is active"),
    ("pg_replication_slots_pg_wal_lsn_diff", "gauge", ("slot_name", "database"), "Replication lag in bytes"),
    ("lookout_pg_replication_slot_retained_wal_bytes", "gauge", _SLOT,
     "WAL retained on the server for the slot, in bytes."),
    # postgres_exporter 0.20's names, then the same under 0.13-0.19's (pg_replication_slot_*).
    *[(prefix + name, "gauge", labels, help_) for prefix in ("pg_replication_slots_", "pg_replication_slot_")
      for name, labels, help_ in [
          ("slot_current_wal_lsn", _SLOT_TYPE, "current wal lsn value"),
          ("slot_confirmed_flush_lsn", _SLOT_TYPE, "last lsn confirmed flushed to the replication slot"),
          ("slot_is_active", _SLOT_TYPE, "whether the replication slot is active or not"),
          ("safe_wal_size_bytes", _SLOT_TYPE,
           "number of bytes that can be written to WAL such that this slot is not in danger of getting in state lost"),
          ("wal_status", (*_SLOT_TYPE, "wal_status"), "availability of WAL files claimed by this slot"),
      ]],
])
METRICS += from_table(statements.STATEMENTS, kind="postgres", family="statements",
                      labels=("user", "datname", "queryid"), interval=_INTERVAL["statements"])
METRICS += _family("statements", [
    ("lookout_pg_stat_statements_available", "gauge", (),
     "1 if pg_stat_statements can be read, else 0 (see the document for why)."),
    ("lookout_pg_own_statements_calls_total", "counter", (),
     "Calls of Lookout's own statements on this server (kept out of the top list)."),
    ("lookout_pg_own_statements_seconds_total", "counter", (),
     "Server time of Lookout's own statements on this server, in seconds."),
])
METRICS += _family("sizes", [
    ("pg_database_size_bytes", "gauge", _DB, "Disk space used by the database."),
    ("pg_database_wraparound_age_datfrozenxid_seconds", "gauge", _DB,
     "Age of the oldest transaction ID that has not been frozen."),
    ("pg_database_wraparound_age_datminmxid_seconds", "gauge", _DB,
     "Age of the oldest multi-transaction ID that has been replaced with a transaction ID."),
    ("lookout_pg_database_wraparound_ratio", "gauge", _DB,
     "Transaction ID age as a share of the 2^31 wraparound limit."),
    ("pg_wal_segments", "gauge", (), "Number of WAL segments"),
    ("pg_wal_size_bytes", "gauge", (), "Total size of WAL segments"),
])
METRICS += from_table(tables.TABLES, kind="postgres", family="tables", labels=_TABLE, interval=_INTERVAL["tables"])
METRICS += _family("tables", [
    ("lookout_pg_table_vacuum_age_seconds", "gauge", _TABLE,
     "Seconds since the table was last vacuumed (manually or by autovacuum)."),
    ("lookout_pg_table_analyze_age_seconds", "gauge", _TABLE,
     "Seconds since the table was last analyzed (manually or by autovacuum)."),
    ("lookout_pg_table_heap_cache_hit_ratio", "gauge", _TABLE,
     "Share of heap block requests served from the buffer cache since the previous poll."),
    ("lookout_pg_table_index_cache_hit_ratio", "gauge", _TABLE,
     "Share of index block requests served from the buffer cache since the previous poll."),
])
METRICS += _family("indexes", [
    (f"lookout_pg_{k}_indexes{suffix}", "gauge", _DB, f"{what} {desc}.")
    for k, desc in (("unused", "with no scans since the statistics were reset"),
                    ("duplicate", "whose columns are a prefix of another index"),
                    ("invalid", "left invalid (failed CREATE INDEX CONCURRENTLY)"))
    for suffix, what in (("", "Indexes"), ("_bytes", "Total size of indexes"))
])
METRICS += _family("sequences", [
    ("lookout_pg_sequences_near_exhaustion", "gauge", _DB,
     "Sequences that have used at least the threshold share of their range."),
    ("lookout_pg_sequence_used_ratio", "gauge", ("datname", "schemaname", "sequencename"),
     "Share of the sequence's range already used (listed at or above the threshold)."),
])
