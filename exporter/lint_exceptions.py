"""The peers' own metric names that ``promtool check metrics`` dislikes, with the reason.

Lookout serves postgres_exporter's and redis_exporter's families under their exact
names and types (dashboards and alert rules query them), so the lint findings on those
names are the peers' and stay. Lookout's own names (``lookout_*``) must lint clean and
are never listed here. The live lint test (tests/exporter/test_promtool.py) reads this
table: a finding on a name not listed fails it, and so does a listed name that no longer
draws one (the list stays true). docs/exporter-compatibility.md ("Names promtool's lint
dislikes") says the same for readers.
"""
from __future__ import annotations

PG_COUNTER = ("postgres_exporter types these counters without the _total suffix "
              "(pg_stat_database_blks_hit); dashboards query the exact name")
PG_COUNT_GAUGE = "postgres_exporter's gauge named ..._count (a summary-style suffix); dashboards query the exact name"
PG_COUNT_COUNTER = ("postgres_exporter's counter named ..._count, without _total; dashboards query the exact name")
REDIS_COUNTER = "redis_exporter types these INFO counters without the _total suffix; dashboards query the exact name"
REDIS_TOTAL_GAUGE = "redis_exporter exposes this gauge with a _total suffix; dashboards query the exact name"
REDIS_UNIT = "redis_exporter's name carries an abbreviated or non-base unit (_sec, _ms, _milliseconds)"

PROMTOOL_DISLIKED_PEER_NAMES: dict[str, str] = {
    "pg_stat_database_active_time": PG_COUNTER,
    "pg_stat_database_blk_read_time": PG_COUNTER,
    "pg_stat_database_blk_write_time": PG_COUNTER,
    "pg_stat_database_blks_hit": PG_COUNTER,
    "pg_stat_database_blks_read": PG_COUNTER,
    "pg_stat_database_checksum_failures": PG_COUNTER,  # only on a server with data checksums
    "pg_stat_database_conflicts": PG_COUNTER,
    "pg_stat_database_conflicts_confl_bufferpin": PG_COUNTER,
    "pg_stat_database_conflicts_confl_deadlock": PG_COUNTER,
    "pg_stat_database_conflicts_confl_lock": PG_COUNTER,
    "pg_stat_database_conflicts_confl_snapshot": PG_COUNTER,
    "pg_stat_database_conflicts_confl_tablespace": PG_COUNTER,
    "pg_stat_database_deadlocks": PG_COUNTER,
    "pg_stat_database_idle_in_transaction_time": PG_COUNTER,
    "pg_stat_database_session_time": PG_COUNTER,
    "pg_stat_database_sessions": PG_COUNTER,
    "pg_stat_database_sessions_abandoned": PG_COUNTER,
    "pg_stat_database_sessions_fatal": PG_COUNTER,
    "pg_stat_database_sessions_killed": PG_COUNTER,
    "pg_stat_database_stats_reset": PG_COUNTER,  # only once a database's statistics were reset
    "pg_stat_database_temp_bytes": PG_COUNTER,
    "pg_stat_database_temp_files": PG_COUNTER,
    "pg_stat_database_tup_deleted": PG_COUNTER,
    "pg_stat_database_tup_fetched": PG_COUNTER,
    "pg_stat_database_tup_inserted": PG_COUNTER,
    "pg_stat_database_tup_returned": PG_COUNTER,
    "pg_stat_database_tup_updated": PG_COUNTER,
    "pg_stat_database_xact_commit": PG_COUNTER,
    "pg_stat_database_xact_rollback": PG_COUNTER,
    "pg_stat_user_tables_idx_scan": PG_COUNTER,
    "pg_stat_user_tables_idx_tup_fetch": PG_COUNTER,
    "pg_stat_user_tables_n_tup_del": PG_COUNTER,
    "pg_stat_user_tables_n_tup_hot_upd": PG_COUNTER,
    "pg_stat_user_tables_n_tup_ins": PG_COUNTER,
    "pg_stat_user_tables_n_tup_upd": PG_COUNTER,
    "pg_stat_user_tables_seq_scan": PG_COUNTER,
    "pg_stat_user_tables_seq_tup_read": PG_COUNTER,
    "pg_statio_user_tables_heap_blocks_hit": PG_COUNTER,
    "pg_statio_user_tables_heap_blocks_read": PG_COUNTER,
    "pg_statio_user_tables_idx_blocks_hit": PG_COUNTER,
    "pg_statio_user_tables_idx_blocks_read": PG_COUNTER,
    "pg_statio_user_tables_tidx_blocks_hit": PG_COUNTER,
    "pg_statio_user_tables_tidx_blocks_read": PG_COUNTER,
    "pg_statio_user_tables_toast_blocks_hit": PG_COUNTER,
    "pg_statio_user_tables_toast_blocks_read": PG_COUNTER,
    "pg_stat_archiver_archived_count": PG_COUNT_COUNTER,
    "pg_stat_archiver_failed_count": PG_COUNT_COUNTER,
    "pg_stat_user_tables_analyze_count": PG_COUNT_COUNTER,
    "pg_stat_user_tables_autoanalyze_count": PG_COUNT_COUNTER,
    "pg_stat_user_tables_autovacuum_count": PG_COUNT_COUNTER,
    "pg_stat_user_tables_vacuum_count": PG_COUNT_COUNTER,
    "pg_locks_count": PG_COUNT_GAUGE,
    "pg_settings_tcp_keepalives_count": PG_COUNT_GAUGE,
    "pg_stat_activity_count": PG_COUNT_GAUGE,
    "redis_dump_payload_sanitizations": REDIS_COUNTER,
    "redis_io_threaded_reads_processed": REDIS_COUNTER,
    "redis_io_threaded_writes_processed": REDIS_COUNTER,
    "redis_total_error_replies": REDIS_COUNTER,
    "redis_total_reads_processed": REDIS_COUNTER,
    "redis_total_writes_processed": REDIS_COUNTER,
    "redis_unexpected_error_replies": REDIS_COUNTER,
    "redis_migrate_cached_sockets_total": REDIS_TOTAL_GAUGE,
    "redis_memory_used_vm_total": REDIS_TOTAL_GAUGE,
    "redis_rdb_saves_total": REDIS_TOTAL_GAUGE,
    "redis_cluster_messages_sent_total": REDIS_TOTAL_GAUGE,
    "redis_cluster_messages_received_total": REDIS_TOTAL_GAUGE,
    "redis_aof_current_rewrite_duration_sec": REDIS_UNIT,
    "redis_aof_last_rewrite_duration_sec": REDIS_UNIT,
    "redis_rdb_current_bgsave_duration_sec": REDIS_UNIT,
    "redis_rdb_last_bgsave_duration_sec": REDIS_UNIT,
    "redis_current_eviction_exceeded_time_ms": REDIS_UNIT,
    "redis_eviction_exceeded_time_ms_total": REDIS_UNIT,
    "redis_expire_cycle_cpu_time_ms_total": REDIS_UNIT,
    "redis_last_key_groups_scrape_duration_milliseconds": REDIS_UNIT,
}
