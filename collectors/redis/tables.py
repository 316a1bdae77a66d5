"""INFO text -> samples, by declarative tables in redis_exporter's names.

Names, kinds and labels follow oliver006/redis_exporter (exporter.go
``metricMapGauges`` / ``metricMapCounters``, info.go) as of 1.88, so Grafana
dashboards built for it work on Lookout's /metrics; fields only newer servers,
forks and modules report are in ``newer_fields``. Fields not in the tables are
skipped, except ``cluster_*`` (a gauge of its own name, as the exporter does);
values that are not numbers are skipped (never raise), "ok"/"true" are 1 and
"err"/"fail"/"false" 0.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from collectors.redis import newer_fields, sections
from collectors.redis.parse import number
from core.samples import Kind, Sample

# (INFO field, metric, kind, help). Help says what the number is, in its unit.
_G: Kind = "gauge"
_C: Kind = "counter"
FIELDS: tuple[tuple[str, str, Kind, str], ...] = (
    # Server
    ("uptime_in_seconds", "redis_uptime_in_seconds", _G, "Seconds since the Redis server started."),
    ("process_id", "redis_process_id", _G, "Process id of the Redis server."),
    ("io_threads_active", "redis_io_threads_active", _G, "1 if I/O threads are active."),
    # Clients
    ("connected_clients", "redis_connected_clients", _G, "Client connections (excluding replicas)."),
    ("blocked_clients", "redis_blocked_clients", _G, "Clients blocked in BLPOP and similar."),
    ("tracking_clients", "redis_tracking_clients", _G, "Clients being tracked (client-side caching)."),
    ("clients_in_timeout_table", "redis_clients_in_timeout_table", _G, "Clients in the timeout table."),
    ("cluster_connections", "redis_cluster_connections", _G, "Connections of the cluster bus."),
    ("client_recent_max_input_buffer", "redis_client_recent_max_input_buffer_bytes", _G,
     "Largest recent client input buffer."),
    ("client_recent_max_output_buffer", "redis_client_recent_max_output_buffer_bytes", _G,
     "Largest recent client output buffer."),
    # Memory
    ("used_memory", "redis_memory_used_bytes", _G, "Bytes allocated by Redis."),
    ("used_memory_rss", "redis_memory_used_rss_bytes", _G, "Resident set size of the Redis process."),
    ("used_memory_peak", "redis_memory_used_peak_bytes", _G, "Peak of used_memory."),
    ("used_memory_lua", "redis_memory_used_lua_bytes", _G, "Memory used by the Lua engine."),
    ("used_memory_overhead", "redis_memory_used_overhead_bytes", _G, "Memory used for internal overhead."),
    ("used_memory_startup", "redis_memory_used_startup_bytes", _G, "Memory used at startup."),
    ("used_memory_dataset", "redis_memory_used_dataset_bytes", _G, "Memory used by the dataset."),
    ("used_memory_scripts", "redis_memory_used_scripts_bytes", _G, "Memory used by cached scripts."),
    ("total_system_memory", "redis_total_system_memory_bytes", _G, "Memory of the host Redis runs on."),
    ("maxmemory", "redis_memory_max_bytes", _G, "The maxmemory setting; 0 means no limit."),
    ("allocator_active", "redis_allocator_active_bytes", _G, "Allocator active bytes."),
    ("allocator_allocated", "redis_allocator_allocated_bytes", _G, "Allocator allocated bytes."),
    ("allocator_resident", "redis_allocator_resident_bytes", _G, "Allocator resident bytes."),
    ("allocator_frag_ratio", "redis_allocator_frag_ratio", _G, "Allocator fragmentation ratio."),
    ("allocator_frag_bytes", "redis_allocator_frag_bytes", _G, "Allocator fragmentation bytes."),
    ("allocator_rss_ratio", "redis_allocator_rss_ratio", _G, "Allocator RSS ratio."),
    ("allocator_rss_bytes", "redis_allocator_rss_bytes", _G, "Allocator RSS bytes."),
    ("mem_fragmentation_ratio", "redis_mem_fragmentation_ratio", _G, "RSS over used_memory."),
    ("mem_fragmentation_bytes", "redis_mem_fragmentation_bytes", _G, "RSS minus used_memory."),
    ("mem_clients_slaves", "redis_mem_clients_slaves", _G, "Memory used by replica clients."),
    ("mem_clients_normal", "redis_mem_clients_normal", _G, "Memory used by normal clients."),
    ("mem_not_counted_for_evict", "redis_mem_not_counted_for_eviction_bytes", _G,
     "Memory not counted for eviction (AOF and replica buffers)."),
    ("expired_stale_perc", "redis_expired_stale_percentage", _G, "Percentage of keys probably expired."),
    ("lazyfree_pending_objects", "redis_lazyfree_pending_objects", _G, "Objects waiting to be freed."),
    ("active_defrag_running", "redis_active_defrag_running", _G, "1 while active defragmentation runs."),
    ("migrate_cached_sockets", "redis_migrate_cached_sockets_total", _G, "Sockets open for MIGRATE."),
    ("active_defrag_hits", "redis_defrag_hits", _G, "Value reallocations by active defrag."),
    ("active_defrag_misses", "redis_defrag_misses", _G, "Aborted value reallocations by active defrag."),
    ("active_defrag_key_hits", "redis_defrag_key_hits", _G, "Keys actively defragmented."),
    ("active_defrag_key_misses", "redis_defrag_key_misses", _G, "Keys skipped by active defrag."),
    ("expired_time_cap_reached_count", "redis_expired_time_cap_reached_total", _C,
     "Times an active expiry cycle stopped early."),
    ("number_of_cached_scripts", "redis_number_of_cached_scripts", _G, "Cached Lua scripts."),
    # Persistence
    ("loading", "redis_loading_dump_file", _G, "1 while a dump file is loading."),
    ("rdb_changes_since_last_save", "redis_rdb_changes_since_last_save", _G, "Changes since the last dump."),
    ("rdb_bgsave_in_progress", "redis_rdb_bgsave_in_progress", _G, "1 while an RDB save runs."),
    ("rdb_last_save_time", "redis_rdb_last_save_timestamp_seconds", _G, "Time of the last successful save."),
    ("rdb_last_bgsave_status", "redis_rdb_last_bgsave_status", _G, "1 if the last RDB save succeeded."),
    ("rdb_last_bgsave_time_sec", "redis_rdb_last_bgsave_duration_sec", _G, "Duration of the last RDB save."),
    ("rdb_current_bgsave_time_sec", "redis_rdb_current_bgsave_duration_sec", _G, "Duration of the running save."),
    ("rdb_last_cow_size", "redis_rdb_last_cow_size_bytes", _G, "Copy-on-write bytes of the last RDB save."),
    ("aof_enabled", "redis_aof_enabled", _G, "1 if AOF is on."),
    ("aof_rewrite_in_progress", "redis_aof_rewrite_in_progress", _G, "1 while an AOF rewrite runs."),
    ("aof_rewrite_scheduled", "redis_aof_rewrite_scheduled", _G, "1 if an AOF rewrite is scheduled."),
    ("aof_last_rewrite_time_sec", "redis_aof_last_rewrite_duration_sec", _G, "Duration of the last AOF rewrite."),
    ("aof_current_rewrite_time_sec", "redis_aof_current_rewrite_duration_sec", _G, "Duration of the running rewrite."),
    ("aof_last_cow_size", "redis_aof_last_cow_size_bytes", _G, "Copy-on-write bytes of the last AOF rewrite."),
    ("aof_last_bgrewrite_status", "redis_aof_last_bgrewrite_status", _G, "1 if the last AOF rewrite succeeded."),
    ("aof_last_write_status", "redis_aof_last_write_status", _G, "1 if the last AOF write succeeded."),
    ("aof_current_size", "redis_aof_current_size_bytes", _G, "Current AOF size."),
    ("aof_base_size", "redis_aof_base_size_bytes", _G, "AOF size at the last rewrite."),
    ("module_fork_in_progress", "redis_module_fork_in_progress", _G, "1 while a module fork runs."),
    ("module_fork_last_cow_size", "redis_module_fork_last_cow_size", _G, "Copy-on-write bytes of the last module fork."),
    # Stats
    ("total_connections_received", "redis_connections_received_total", _C, "Connections accepted."),
    ("total_commands_processed", "redis_commands_processed_total", _C, "Commands processed."),
    ("rejected_connections", "redis_rejected_connections_total", _C, "Connections rejected (maxclients)."),
    ("total_net_input_bytes", "redis_net_input_bytes_total", _C, "Bytes read from the network."),
    ("total_net_output_bytes", "redis_net_output_bytes_total", _C, "Bytes written to the network."),
    ("expired_keys", "redis_expired_keys_total", _C, "Keys expired."),
    ("evicted_keys", "redis_evicted_keys_total", _C, "Keys evicted because of maxmemory."),
    ("keyspace_hits", "redis_keyspace_hits_total", _C, "Successful key lookups."),
    ("keyspace_misses", "redis_keyspace_misses_total", _C, "Failed key lookups."),
    ("pubsub_channels", "redis_pubsub_channels", _G, "Pub/sub channels with subscribers."),
    ("pubsub_patterns", "redis_pubsub_patterns", _G, "Pub/sub patterns with subscribers."),
    ("slave_expires_tracked_keys", "redis_slave_expires_tracked_keys", _G, "Keys tracked for expiry on a replica."),
    ("tracking_total_keys", "redis_tracking_total_keys", _G, "Keys tracked for client-side caching."),
    ("tracking_total_items", "redis_tracking_total_items", _G, "Items tracked for client-side caching."),
    ("tracking_total_prefixes", "redis_tracking_total_prefixes", _G, "Prefixes tracked for client-side caching."),
    ("unexpected_error_replies", "redis_unexpected_error_replies", _C, "Unexpected error replies (AOF/replication)."),
    ("total_error_replies", "redis_total_error_replies", _C, "Error replies sent to clients."),
    ("dump_payload_sanitizations", "redis_dump_payload_sanitizations", _C, "Deep DUMP payload checks."),
    ("total_reads_processed", "redis_total_reads_processed", _C, "Read events processed."),
    ("total_writes_processed", "redis_total_writes_processed", _C, "Write events processed."),
    ("io_threaded_reads_processed", "redis_io_threaded_reads_processed", _C, "Reads done by I/O threads."),
    ("io_threaded_writes_processed", "redis_io_threaded_writes_processed", _C, "Writes done by I/O threads."),
    # Replication
    ("connected_slaves", "redis_connected_slaves", _G, "Connected replicas."),
    ("repl_backlog_size", "redis_replication_backlog_bytes", _G, "Size of the replication backlog."),
    ("repl_backlog_active", "redis_repl_backlog_is_active", _G, "1 if the replication backlog is active."),
    ("repl_backlog_first_byte_offset", "redis_repl_backlog_first_byte_offset", _G, "First offset in the backlog."),
    ("repl_backlog_histlen", "redis_repl_backlog_history_bytes", _G, "Bytes of data in the backlog."),
    ("master_repl_offset", "redis_master_repl_offset", _G, "Replication offset of this server."),
    ("second_repl_offset", "redis_second_repl_offset", _G, "Offset up to which replication ids are accepted."),
    ("slave_priority", "redis_slave_priority", _G, "Replica priority for failover."),
    ("sync_full", "redis_replica_resyncs_full", _G, "Full resyncs with replicas."),
    ("sync_partial_ok", "redis_replica_partial_resync_accepted", _G, "Accepted partial resyncs."),
    ("sync_partial_err", "redis_replica_partial_resync_denied", _G, "Denied partial resyncs."),
    # CPU
    ("used_cpu_sys", "redis_cpu_sys_seconds_total", _C, "System CPU time of the server."),
    ("used_cpu_user", "redis_cpu_user_seconds_total", _C, "User CPU time of the server."),
    ("used_cpu_sys_children", "redis_cpu_sys_children_seconds_total", _C, "System CPU time of child processes."),
    ("used_cpu_user_children", "redis_cpu_user_children_seconds_total", _C, "User CPU time of child processes."),
    ("used_cpu_sys_main_thread", "redis_cpu_sys_main_thread_seconds_total", _C, "System CPU time of the main thread."),
    ("used_cpu_user_main_thread", "redis_cpu_user_main_thread_seconds_total", _C, "User CPU time of the main thread."),
    # Cluster
    ("cluster_enabled", "redis_cluster_enabled", _G, "1 if cluster mode is on."),
)
_BY_FIELD = {f: (m, k, h) for f, m, k, h in FIELDS}
for _table, _kind in ((newer_fields.GAUGES, _G), (newer_fields.COUNTERS, _C)):
    _BY_FIELD.update({f: (f"redis_{m or f}", _kind, f"INFO {f}.") for f, m in _table.items()})
_CLUSTER = {f: (f"redis_{m}", _G, f"CLUSTER INFO {f}.") for f, m in newer_fields.CLUSTER.items()}
_TRUE, _FALSE = frozenset({"ok", "true"}), frozenset({"err", "fail", "false"})
_IO_THREAD = re.compile(r"^used_active_time_io_thread_(\d+)$")
# Scaled fields: redis_exporter converts these to base units.
_SCALED = {"latest_fork_usec": ("redis_latest_fork_seconds", 1e-6, "Duration of the latest fork.")}
INSTANCE_LABELS = ("role", "redis_version", "redis_build_id", "redis_mode", "os",
                   "maxmemory_policy", "tcp_port", "run_id", "process_id", "master_replid")
VALKEY_LABELS = ("valkey_version", "valkey_release_stage")  # only when the server is Valkey


def value(raw: str) -> float | None:
    """An INFO value as redis_exporter reads it: a number, or ok/true 1, err/fail/false 0."""
    if raw in _TRUE:
        return 1.0
    if raw in _FALSE:
        return 0.0
    return number(raw)


def cluster_samples(fields: dict[str, str]) -> Iterator[Sample]:
    """CLUSTER INFO (``cluster_state:ok``, ``cluster_slots_fail:0``...) -> gauges."""
    for field, raw in fields.items():
        if (v := value(raw)) is None:
            continue
        if field in _CLUSTER:
            metric, kind, help_ = _CLUSTER[field]
            yield Sample(metric, v, kind=kind, help=help_)
        elif field.startswith("cluster_"):
            yield Sample(f"redis_{field}", v, help=f"CLUSTER INFO {field}.")


def info_samples(info: dict[str, dict[str, str]], databases: int, now: float) -> Iterator[Sample]:
    flat = {k: v for sec in info.values() for k, v in sec.items()}
    for field, raw in flat.items():
        if field in _BY_FIELD:
            metric, kind, help_ = _BY_FIELD[field]
            if (v := value(raw)) is not None:
                yield Sample(metric, v, kind=kind, help=help_)
        elif field in _SCALED:
            metric, scale, help_ = _SCALED[field]
            if (v := number(raw)) is not None:
                yield Sample(metric, v * scale, help=help_)
        elif field.startswith("cluster_"):
            if (v := value(raw)) is not None:
                yield Sample(f"redis_{field}", v, help=f"INFO {field}.")
        elif (m := _IO_THREAD.match(field)) and (v := number(raw)) is not None:
            yield Sample("redis_active_time_io_thread_seconds_total", v, {"thread": m[1]}, "counter",
                         "Active time of an I/O thread.")
    for field in ("hz", "configured_hz"):
        if (v := number(flat.get(field))) is not None and v.is_integer():
            yield Sample(f"redis_{field}", v, help=f"The server's {field} setting.")
    if (up := number(flat.get("uptime_in_seconds"))) is not None:
        yield Sample("redis_start_time_seconds", float(int(now - up)),
                     help="Start time of the Redis instance since unix epoch in seconds.")
    labels = {k: flat.get(k, "") for k in INSTANCE_LABELS}
    labels.update({k: flat[k] for k in VALKEY_LABELS if k in flat})
    yield Sample("redis_instance_info", 1.0, labels, help="Information about the Redis instance.")
    if flat.get("role") == "slave":
        yield Sample("redis_slave_info", 1.0, {"master_host": flat.get("master_host", ""),
                                               "master_port": flat.get("master_port", ""),
                                               "read_only": flat.get("slave_read_only", "")},
                     help="Information about the Redis replica.")
    yield from sections.keyspace(info.get("keyspace", {}), databases)
    yield from sections.commandstats(info.get("commandstats", {}))
    yield from sections.errorstats(info.get("errorstats", {}))
    yield from sections.latency_summaries(info.get("latencystats", {}), info.get("commandstats", {}))
    yield from sections.replication(info.get("replication", {}), flat)


