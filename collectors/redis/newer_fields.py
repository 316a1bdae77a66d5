"""INFO fields that redis_exporter 1.88 maps and the hand-written table (``tables.py``) does not.

Fields of newer Redis and Valkey releases, KeyDB, and modules (RediSearch, bloom,
JSON): each appears only when the server reports it. Taken from oliver006/redis_exporter
v1.88.0 ``exporter/exporter.go`` (``metricMapGauges``, ``metricMapCounters``): field ->
metric name after ``redis_`` ("" when it is the field's own name). Kinds are the
exporter's: a gauge stays a gauge whatever its name ends in.
"""
from __future__ import annotations

GAUGES: dict[str, str] = {
    "maxclients": "max_clients", "pubsub_clients": "", "watching_clients": "", "total_watched_keys": "",
    "total_blocking_keys": "", "total_blocking_keys_on_nokey": "", "client_longest_output_list": "",
    "client_biggest_input_buf": "", "allocator_muzzy": "allocator_muzzy_bytes",
    "used_memory_vm_eval": "memory_used_vm_eval_bytes", "used_memory_scripts_eval": "memory_used_scripts_eval_bytes",
    "number_of_functions": "", "number_of_libraries": "",
    "used_memory_vm_functions": "memory_used_vm_functions_bytes",
    "used_memory_functions": "memory_used_functions_bytes", "used_memory_vm_total": "memory_used_vm_total",
    "maxmemory_reservation": "memory_max_reservation_bytes",
    "maxmemory_desired_reservation": "memory_max_reservation_desired_bytes",
    "maxfragmentationmemory_reservation": "memory_max_fragmentation_reservation_bytes",
    "maxfragmentationmemory_desired_reservation": "memory_max_fragmentation_reservation_desired_bytes",
    "mem_cluster_links": "mem_cluster_links_bytes", "mem_aof_buffer": "mem_aof_buffer_bytes",
    "mem_replication_backlog": "mem_replication_backlog_bytes",
    "mem_total_replication_buffers": "mem_total_replication_buffers_bytes",
    "mem_overhead_db_hashtable_rehashing": "mem_overhead_db_hashtable_rehashing_bytes", "lazyfreed_objects": "",
    "async_loading": "", "rdb_saves": "rdb_saves_total", "rdb_last_load_keys_expired": "rdb_last_load_expired_keys",
    "rdb_last_load_keys_loaded": "rdb_last_load_loaded_keys", "aof_pending_rewrite": "", "aof_buffer_length": "",
    "aof_rewrite_buffer_length": "", "aof_pending_bio_fsync": "", "aof_delayed_fsync": "",
    "current_eviction_exceeded_time": "current_eviction_exceeded_time_ms", "pubsubshard_channels": "",
    "instantaneous_eventloop_cycles_per_sec": "", "instantaneous_eventloop_duration_usec": "",
    "server_threads": "server_threads_total", "long_lock_waits": "long_lock_waits_total",
    "current_client_thread": "", "search_number_of_indexes": "",
    "search_used_memory_indexes": "search_used_memory_indexes_bytes", "search_dialect_1": "", "search_dialect_2": "",
    "search_dialect_3": "", "search_dialect_4": "", "search_global_idle": "", "search_global_total": "",
    "search_bytes_collected": "search_collected_bytes", "search_number_of_active_indexes": "",
    "search_number_of_active_indexes_running_queries": "", "search_number_of_active_indexes_indexing": "",
    "search_total_active_write_threads": "", "search_total_num_docs_in_indexes": "",
    "search_smallest_memory_index": "search_smallest_memory_index_bytes",
    "search_largest_memory_index": "search_largest_memory_index_bytes",
    "search_used_memory_vector_index": "search_used_memory_vector_index_bytes", "search_global_idle_user": "",
    "search_global_idle_internal": "", "search_global_total_user": "", "search_global_total_internal": "",
    "search_gc_bytes_collected": "search_gc_collected_bytes", "search_gc_total_docs_not_collected": "",
    "search_gc_marked_deleted_vectors": "", "search_errors_indexing_failures": "", "bf_bloom_total_memory_bytes": "",
    "bf_bloom_num_objects": "", "bf_bloom_num_filters_across_objects": "", "bf_bloom_num_items_across_objects": "",
    "bf_bloom_capacity_across_objects": "", "json_total_memory_bytes": "", "json_num_documents": "",
    "search_used_memory_bytes": "", "search_number_of_attributes": "", "search_total_indexed_documents": "",
    "search_query_queue_size": "", "search_writer_queue_size": "", "search_string_interning_store_size": "",
    "search_vector_externing_hash_extern_errors": "", "search_vector_externing_num_lru_entries": "",
}

COUNTERS: dict[str, str] = {
    "total_net_repl_input_bytes": "net_repl_input_bytes_total",
    "total_net_repl_output_bytes": "net_repl_output_bytes_total", "expired_subkeys": "expired_subkeys_total",
    "expire_cycle_cpu_milliseconds": "expire_cycle_cpu_time_ms_total", "evicted_clients": "evicted_clients_total",
    "evicted_scripts": "evicted_scripts_total", "total_eviction_exceeded_time": "eviction_exceeded_time_ms_total",
    "eventloop_cycles": "eventloop_cycles_total", "eventloop_duration_sum": "eventloop_duration_sum_usec_total",
    "eventloop_duration_cmd_sum": "eventloop_duration_cmd_sum_usec_total",
    "client_query_buffer_limit_disconnections": "client_query_buffer_limit_disconnections_total",
    "client_output_buffer_limit_disconnections": "client_output_buffer_limit_disconnections_total",
    "reply_buffer_shrinks": "reply_buffer_shrinks_total", "reply_buffer_expands": "reply_buffer_expands_total",
    "acl_access_denied_auth": "acl_access_denied_auth_total", "acl_access_denied_cmd": "acl_access_denied_cmd_total",
    "acl_access_denied_key": "acl_access_denied_key_total",
    "acl_access_denied_channel": "acl_access_denied_channel_total", "cached_keys": "cached_keys_total",
    "storage_provider_read_hits": "", "storage_provider_read_misses": "",
    "search_total_indexing_time": "search_indexing_time_ms_total", "search_total_cycles": "search_cycles_total",
    "search_total_ms_run": "search_run_ms_total", "search_gc_total_cycles": "search_gc_cycles_total",
    "search_gc_total_ms_run": "search_gc_run_ms_total",
    "search_total_queries_processed": "search_queries_processed_total",
    "search_total_query_commands": "search_query_commands_total",
    "search_total_query_execution_time_ms": "search_query_execution_time_ms_total",
    "search_total_active_queries": "search_active_queries_total",
    "bf_bloom_defrag_hits": "bf_bloom_defrag_hits_total", "bf_bloom_defrag_misses": "bf_bloom_defrag_misses_total",
    "search_worker_pool_suspend_cnt": "search_worker_pool_suspend_count",
    "search_writer_resumed_cnt": "search_writer_resumed_count",
    "search_reader_resumed_cnt": "search_reader_resumed_count",
    "search_writer_suspension_expired_cnt": "search_writer_suspension_expired_count",
    "search_rdb_load_success_cnt": "search_rdb_load_success_count",
    "search_rdb_load_failure_cnt": "search_rdb_load_failure_count",
    "search_rdb_save_success_cnt": "search_rdb_save_success_count",
    "search_rdb_save_failure_cnt": "search_rdb_save_failure_count", "search_successful_requests_count": "",
    "search_failure_requests_count": "", "search_hybrid_requests_count": "",
    "search_inline_filtering_requests_count": "", "search_hnsw_add_exceptions_count": "",
    "search_hnsw_remove_exceptions_count": "", "search_hnsw_modify_exceptions_count": "",
    "search_hnsw_search_exceptions_count": "", "search_hnsw_create_exceptions_count": "",
    "search_vector_externing_entry_count": "",
    "search_vector_externing_generated_value_cnt": "search_vector_externing_generated_value_count",
    "search_vector_externing_lru_promote_cnt": "search_vector_externing_lru_promote_count",
    "search_vector_externing_deferred_entry_cnt": "search_vector_externing_deferred_entry_count",
    "used_active_time_main_thread": "active_time_main_thread_seconds_total",
}

# CLUSTER INFO fields the exporter renames; every other ``cluster_*`` field is
# ``redis_<field>`` (a gauge, "ok" 1 and "fail" 0).
CLUSTER: dict[str, str] = {
    "cluster_stats_messages_sent": "cluster_messages_sent_total",
    "cluster_stats_messages_received": "cluster_messages_received_total",
}
