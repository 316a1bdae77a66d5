"""The SQL of every family, chosen by server version (``server_version_num``).

Each function returns the statements of one family for one version; they
select the view's own column names (``total_exec_time`` on 13+,
``total_time`` before) so that recorded result sets of each version feed
the same row-mapping functions. Every result set is bounded (LIMIT, top N),
and nothing here takes a lock stronger than AccessShare.
"""
from __future__ import annotations

from collectors.postgres.connection import MARK

SUPPORTED_MIN = 120000  # PostgreSQL 12

# The settings listed in the pg_server document (what the dashboard shows); every numeric and
# boolean setting becomes a pg_settings_* series.
SETTINGS = (
    "max_connections", "superuser_reserved_connections", "shared_buffers", "effective_cache_size",
    "work_mem", "maintenance_work_mem", "max_wal_size", "checkpoint_timeout", "autovacuum",
    "autovacuum_max_workers", "autovacuum_freeze_max_age", "statement_timeout",
    "idle_in_transaction_session_timeout", "track_io_timing", "max_wal_senders",
    "max_replication_slots", "random_page_cost", "max_worker_processes", "max_parallel_workers",
)


def instance(version: int) -> list[str]:
    return [
        "SELECT current_setting('server_version') AS server_version, version() AS version,"
        " current_setting('server_version_num')::int AS server_version_num,"
        " extract(epoch FROM pg_postmaster_start_time())::float8 AS start_time,"
        " extract(epoch FROM now())::float8 AS now, pg_is_in_recovery() AS in_recovery",
        "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname LIMIT 200",
    ]


def settings(version: int) -> list[str]:
    return [
        "SELECT pg_is_in_recovery() AS in_recovery",
        # Every numeric and boolean setting, as postgres_exporter's pg_settings collector. Lookout sets
        # its timeouts and read-only default on its own session (connection.SESSION): for those the
        # server's value is reset_val (source 'session'), which server.settings reads.
        "SELECT name, setting, reset_val, source, coalesce(unit, '') AS unit, vartype FROM pg_settings"
        " WHERE vartype IN ('bool', 'integer', 'real') LIMIT 2000",
        "SELECT datname, datconnlimit FROM pg_database ORDER BY datname LIMIT 200",
        "SELECT rolname, rolconnlimit FROM pg_roles ORDER BY rolname LIMIT 1000",
    ]


def database(version: int) -> list[str]:
    # Every row, as postgres_exporter 0.11 serves them: templates too, and the shared-objects
    # row (datid 0, datname NULL; PostgreSQL 12+), reported with datname "".
    return ["SELECT * FROM pg_stat_database ORDER BY datid LIMIT 200",
            "SELECT * FROM pg_stat_database_conflicts ORDER BY datid LIMIT 200"]


# Every database, templates included, as postgres_exporter's CROSS JOIN pg_database: the
# activity and locks families report 0 for each (database, state or mode) nobody is in, so
# a label set never disappears because its last session ended (issue 15).
ALL_DATABASES = "SELECT datname FROM pg_database ORDER BY datname LIMIT 200"


def activity(version: int) -> list[str]:
    return [
        # As postgres_exporter: every backend with a database, Lookout's own session included (it is
        # the session the exporter's would be: one active connection of the watcher), grouped by the
        # newest exporter's labels; sessions.activity adds the zero rows of its CROSS JOIN.
        "SELECT datname, state, coalesce(usename, '') AS usename,"
        " coalesce(application_name, '') AS application_name, coalesce(backend_type, '') AS backend_type,"
        " coalesce(wait_event_type, '') AS wait_event_type, coalesce(wait_event, '') AS wait_event,"
        " count(*) AS count,"
        " coalesce(max(extract(epoch FROM now() - xact_start)), 0)::float8 AS max_tx_duration,"
        " max(extract(epoch FROM now() - query_start)) FILTER (WHERE state = 'active')::float8 AS max_query_duration,"
        " max(extract(epoch FROM now() - state_change))"
        "  FILTER (WHERE state LIKE 'idle in transaction%')::float8 AS max_idle_in_tx"
        " FROM pg_stat_activity WHERE datname IS NOT NULL AND state IS NOT NULL"
        " GROUP BY 1, 2, 3, 4, 5, 6, 7 LIMIT 1000",
        "SELECT pid, datname, usename, application_name, state,"
        " extract(epoch FROM now() - xact_start)::float8 AS xact_age,"
        " extract(epoch FROM now() - query_start)::float8 AS query_age, left(query, 500) AS query"
        " FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        " AND xact_start IS NOT NULL ORDER BY xact_start LIMIT 5",
        ALL_DATABASES,
        # VACUUM progress, as postgres_exporter's stat_progress_vacuum (its parameter numbers).
        "SELECT d.datname, coalesce(CASE WHEN d.datname = current_database() THEN s.relid::regclass::text END,"
        " s.relid::text) AS relname, s.param1 AS phase, s.param2 AS heap_blks_total,"
        " s.param3 AS heap_blks_scanned, s.param4 AS heap_blks_vacuumed, s.param5 AS index_vacuum_count,"
        " s.param6 AS max_dead_tuples, s.param7 AS num_dead_tuples"
        " FROM pg_stat_get_progress_info('VACUUM') s LEFT JOIN pg_database d ON s.datid = d.oid LIMIT 100",
    ]


def locks(version: int) -> list[str]:
    return [
        # As postgres_exporter: locks on a database's objects. Of Lookout's own only the one the
        # exporter's query holds as well (AccessShareLock on pg_locks): its batch reads ~10 views.
        "SELECT d.datname, lower(l.mode) AS mode, count(*) AS count"
        " FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
        " WHERE l.pid IS DISTINCT FROM pg_backend_pid() OR l.relation = 'pg_catalog.pg_locks'::regclass"
        " GROUP BY 1, 2 LIMIT 1000",
        # Blocked sessions and the sessions blocking them (roots have blocked_by NULL).
        "WITH blocked AS (SELECT pid, pg_blocking_pids(pid) AS blocked_by FROM pg_stat_activity"
        "  WHERE wait_event_type = 'Lock' LIMIT 200)"
        " SELECT a.pid, b.blocked_by, a.datname, a.usename, a.application_name, a.state,"
        " a.wait_event_type, a.wait_event, extract(epoch FROM now() - a.query_start)::float8 AS query_age,"
        " extract(epoch FROM now() - a.xact_start)::float8 AS xact_age, left(a.query, 300) AS query"
        " FROM pg_stat_activity a LEFT JOIN blocked b ON b.pid = a.pid"
        " WHERE cardinality(b.blocked_by) > 0 OR a.pid IN (SELECT unnest(blocked_by) FROM blocked) LIMIT 400",
        ALL_DATABASES,
    ]


def bgwriter(version: int) -> list[str]:
    out = ["SELECT * FROM pg_stat_bgwriter"]
    if version >= 170000:  # PostgreSQL 17 moved the checkpoint counters out
        out.append("SELECT * FROM pg_stat_checkpointer")
    return out


def wal(version: int) -> list[str]:
    # The pg_wal directory listing (pg_ls_waldir) is a file-system scan: it
    # lives in the heavy ``sizes`` family, not on every poll.
    out = [
        "SELECT CASE WHEN pg_is_in_recovery() THEN NULL"
        " ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8 END AS current_wal_lsn_bytes",
        "SELECT archived_count, failed_count,"
        " extract(epoch FROM now() - last_archived_time)::float8 AS last_archive_age FROM pg_stat_archiver",
    ]
    if version >= 140000:
        out.append("SELECT * FROM pg_stat_wal")
    return out


def replication(version: int) -> list[str]:
    slot_extra = (", wal_status, safe_wal_size::float8 AS safe_wal_size" if version >= 130000
                  else ", NULL AS wal_status, NULL AS safe_wal_size")
    return [
        # 0 on a primary, as postgres_exporter's; 0 too on a replica that has replayed all it received:
        # an idle primary sends no transaction, and the age of the last one replayed is not lag.
        "SELECT pg_is_in_recovery() AS in_recovery, CASE WHEN NOT pg_is_in_recovery() THEN 0"
        " WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
        " ELSE greatest(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp())) END::float8 AS lag,"
        # pg_replication_lag of the exporter's old queries.yaml: the age of the last replayed transaction.
        " CASE WHEN NOT pg_is_in_recovery() THEN 0"
        " ELSE greatest(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp())) END::float8 AS old_lag,"
        " greatest(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp()))::float8 AS last_replay",
        "SELECT coalesce(r.application_name, '') AS application_name, coalesce(r.client_addr::text, '') AS client_addr,"
        " coalesce(r.state, '') AS state, coalesce(r.sync_state, '') AS sync_state,"
        " coalesce(s.slot_name, '') AS slot_name,"
        " pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END,"
        "  '0/0')::float8 AS current_wal_lsn_bytes,"
        " pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END,"
        "  r.replay_lsn)::float8 AS replay_lag_bytes,"
        " extract(epoch FROM r.replay_lag)::float8 AS replay_lag_seconds,"
        " extract(epoch FROM r.write_lag)::float8 AS write_lag_seconds,"
        " extract(epoch FROM r.flush_lag)::float8 AS flush_lag_seconds"
        " FROM pg_stat_replication r LEFT JOIN pg_replication_slots s ON s.active_pid = r.pid LIMIT 100",
        "SELECT slot_name, slot_type, coalesce(plugin, '') AS plugin, coalesce(database, '') AS database, active,"
        " pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn()"
        "  ELSE pg_current_wal_lsn() END, restart_lsn)::float8 AS retained_bytes,"
        " pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn()"
        "  ELSE pg_current_wal_lsn() END, '0/0')::float8 AS current_wal_lsn,"
        f" pg_wal_lsn_diff(coalesce(confirmed_flush_lsn, '0/0'), '0/0')::float8 AS confirmed_flush_lsn{slot_extra}"
        " FROM pg_replication_slots LIMIT 100",
    ]


def sizes(version: int, databases: list[str] | None = None) -> list[str]:
    # Only the watched databases (`databases:`): pg_database_size reads each one's files and
    # needs CONNECT on it, so the others are not even sized. Without `databases:` every one,
    # templates too, as postgres_exporter; one Lookout may not connect to is left unsized.
    only = f" AND datname = ANY(ARRAY[{', '.join(map(literal, databases))}]::text[])" if databases else ""
    return [
        "SELECT datname, CASE WHEN has_database_privilege(oid, 'CONNECT')"
        " OR pg_has_role('pg_read_all_stats', 'MEMBER') THEN pg_database_size(oid)::float8 END AS size_bytes,"
        " age(datfrozenxid)::float8 AS age_datfrozenxid, mxid_age(datminmxid)::float8 AS age_datminmxid"
        f" FROM pg_database WHERE true{only} ORDER BY datname LIMIT 200",
        "SELECT count(*) AS segments, coalesce(sum(size), 0)::float8 AS size"
        " FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$'",
    ]


def literal(text: str) -> str:
    """A string literal of ``text`` (an E'' string: right whatever standard_conforming_strings says)."""
    return "E'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def statements_probe(version: int) -> str:
    return ("SELECT (SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements') AS extversion,"
            " current_setting('shared_preload_libraries') AS preload, current_database() AS datname")


def statements(version: int, top: int) -> list[str]:
    if version >= 170000:
        cols = "s.total_exec_time, s.mean_exec_time, s.shared_blk_read_time, s.shared_blk_write_time"
        order = "s.total_exec_time"
    elif version >= 130000:
        cols = "s.total_exec_time, s.mean_exec_time, s.blk_read_time, s.blk_write_time"
        order = "s.total_exec_time"
    else:
        cols = "s.total_time, s.mean_time, s.blk_read_time, s.blk_write_time"
        order = "s.total_time"
    own = f"s.query LIKE 'SELECT {MARK}%'"  # Lookout's own batches (connection.merged)
    return [
        f"SELECT s.queryid::text AS queryid, pg_get_userbyid(s.userid) AS user, d.datname, s.calls, {cols},"
        " s.rows, s.shared_blks_hit, s.shared_blks_read, left(s.query, 500) AS query"
        f" FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE NOT {own}"
        f" ORDER BY {order} DESC LIMIT {int(top)}",
        f"SELECT count(*) AS statements, coalesce(sum(s.calls), 0) AS calls, coalesce(sum({order}), 0)::float8"
        f" AS total_ms FROM pg_stat_statements s WHERE {own}",
    ]


def tables(version: int, top: int) -> list[str]:
    return [
        "SELECT s.schemaname, s.relname, s.seq_scan, s.seq_tup_read, s.idx_scan, s.idx_tup_fetch,"
        " s.n_tup_ins, s.n_tup_upd, s.n_tup_del, s.n_tup_hot_upd, s.n_live_tup, s.n_dead_tup,"
        " s.n_mod_since_analyze, s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze,"
        " s.vacuum_count, s.autovacuum_count, s.analyze_count, s.autoanalyze_count,"
        " pg_table_size(s.relid)::float8 AS table_size_bytes, pg_indexes_size(s.relid)::float8 AS index_size_bytes,"
        " io.heap_blks_read, io.heap_blks_hit, io.idx_blks_read, io.idx_blks_hit,"
        " io.toast_blks_read, io.toast_blks_hit, io.tidx_blks_read, io.tidx_blks_hit"
        " FROM pg_stat_user_tables s JOIN pg_statio_user_tables io ON io.relid = s.relid"
        f" ORDER BY coalesce(s.n_live_tup, 0) + coalesce(s.n_dead_tup, 0) DESC, s.relid LIMIT {int(top)}",
    ]


def indexes(version: int, min_unused_bytes: int) -> list[str]:
    return [
        "SELECT s.schemaname, s.relname AS table, s.indexrelname AS index,"
        " pg_relation_size(s.indexrelid)::float8 AS size_bytes, s.idx_scan"
        " FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid"
        " WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary"
        f" AND pg_relation_size(s.indexrelid) >= {int(min_unused_bytes)} ORDER BY 4 DESC LIMIT 100",
        # a's key columns (and operator classes) are a prefix of b's: a is redundant.
        "SELECT n.nspname AS schemaname, t.relname AS table, a.relname AS index, b.relname AS covered_by,"
        " pg_relation_size(a.oid)::float8 AS size_bytes, pg_get_indexdef(a.oid) AS indexdef,"
        " pg_get_indexdef(b.oid) AS covered_by_def, coalesce(st.idx_scan, 0) AS idx_scan"
        " FROM pg_index ia JOIN pg_index ib ON ib.indrelid = ia.indrelid AND ib.indexrelid <> ia.indexrelid"
        " LEFT JOIN pg_stat_all_indexes st ON st.indexrelid = ia.indexrelid"
        " JOIN pg_class a ON a.oid = ia.indexrelid JOIN pg_class b ON b.oid = ib.indexrelid"
        " JOIN pg_class t ON t.oid = ia.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE a.relam = b.relam AND ia.indpred IS NULL AND ib.indpred IS NULL"
        " AND ia.indexprs IS NULL AND ib.indexprs IS NULL"
        " AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
        " AND (ib.indkey::text || ' ') LIKE (ia.indkey::text || ' %')"
        " AND (ib.indclass::text || ' ') LIKE (ia.indclass::text || ' %')"
        " AND (NOT ia.indisunique OR (ib.indisunique AND ia.indkey::text = ib.indkey::text))"
        " AND (ia.indkey::text <> ib.indkey::text OR (ib.indisunique AND NOT ia.indisunique)"
        "      OR (ia.indisunique = ib.indisunique AND ia.indexrelid > ib.indexrelid))"
        " ORDER BY 5 DESC LIMIT 100",
        "SELECT n.nspname AS schemaname, t.relname AS table, c.relname AS index,"
        " pg_relation_size(c.oid)::float8 AS size_bytes, coalesce(st.idx_scan, 0) AS idx_scan"
        " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid"
        " LEFT JOIN pg_stat_all_indexes st ON st.indexrelid = i.indexrelid"
        " JOIN pg_namespace n ON n.oid = t.relnamespace WHERE NOT i.indisvalid LIMIT 100",
    ]


def sequences(version: int) -> list[str]:
    return [
        "SELECT schemaname, sequencename, last_value::float8 AS last_value, max_value::float8 AS max_value,"
        " (CASE WHEN increment_by > 0 THEN (last_value::float8 - min_value) ELSE (max_value::float8 - last_value) END)"
        "  / nullif(max_value::float8 - min_value, 0) AS used_ratio"
        " FROM pg_sequences WHERE last_value IS NOT NULL ORDER BY used_ratio DESC NULLS LAST LIMIT 50",
    ]
