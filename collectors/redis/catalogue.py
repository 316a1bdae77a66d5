"""The metrics of ``kind: redis``, by INFO section (the family), every poll.

The INFO table (``tables.FIELDS``), the command stats table and the derived ratios are read
as declared; the section of each INFO field is where its table row sits (the first field of
each section below starts it).
"""
from __future__ import annotations

from collectors.catalogue import Metric
from collectors.redis import derived, sections, settings, tables

# The first FIELDS row of each INFO section, in the table's order.
_SECTION_STARTS = {"uptime_in_seconds": "server", "connected_clients": "clients", "used_memory": "memory",
                   "loading": "persistence", "total_connections_received": "stats",
                   "connected_slaves": "replication", "used_cpu_sys": "cpu", "cluster_enabled": "cluster"}
_MASTER = ("master_host", "master_port")
_SLAVE = ("slave_ip", "slave_port", "slave_state")


def _info() -> list[Metric]:
    out, section = [], "server"
    for field, metric, kind, help_ in tables.FIELDS:
        section = _SECTION_STARTS.get(field, section)
        out.append(Metric(metric, kind, help_, "redis", section))
    listed = {f for f, *_ in tables.FIELDS}
    # Fields of newer servers redis_exporter maps (newer_fields.py), as the INFO table reads them.
    out += [Metric(metric, kind, help_, "redis", "newer fields")
            for field, (metric, kind, help_) in tables._BY_FIELD.items() if field not in listed]
    out += [Metric(metric, kind, help_, "redis", "cluster") for metric, kind, help_ in tables._CLUSTER.values()]
    return out


def _m(name: str, type_: str, family: str, labels: tuple[str, ...], help_: str) -> Metric:
    return Metric(name, type_, help_, "redis", family, labels)


METRICS: list[Metric] = [
    _m("redis_up", "gauge", "server", (), "1 if the Redis server could be scraped."),
    *_info(),
    *[_m(metric, "gauge", "stats", (), help_) for metric, _scale, help_ in tables._SCALED.values()],
    _m("redis_start_time_seconds", "gauge", "server", (),
       "Start time of the Redis instance since unix epoch in seconds."),
    _m("redis_instance_info", "gauge", "server", tables.INSTANCE_LABELS + tables.VALKEY_LABELS,
       "Information about the Redis instance."),
    _m("redis_slave_info", "gauge", "replication", ("master_host", "master_port", "read_only"),
       "Information about the Redis replica."),
    _m("redis_cluster_<field>", "gauge", "cluster", (), "CLUSTER INFO and INFO cluster_* fields (ok 1, fail 0)."),
    _m("redis_active_time_io_thread_seconds_total", "counter", "stats", ("thread",), "Active time of an I/O thread."),
    *[_m(f"redis_{f}", "gauge", "server", (), f"The server's {f} setting.") for f in ("hz", "configured_hz")],
    *[_m(f"redis_config_{key.replace('-', '_')}", "gauge", "config", (), help_)
      for key, help_ in settings._GAUGES.items()],
    _m("redis_config_client_output_buffer_limit_bytes", "gauge", "config", ("class", "limit"),
       "The configured buffer limits per class."),
    _m("redis_config_client_output_buffer_limit_overcome_seconds", "gauge", "config", ("class", "limit"),
       "How long for buffer limits per class to be exceeded before replicas are dropped."),
    _m("redis_exporter_last_scrape_error", "gauge", "exporter", ("err",), "The last scrape error status."),
    _m("redis_exporter_last_scrape_duration_seconds", "gauge", "exporter", (),
       "Wall time of the last collection of the target."),
    _m("redis_exporter_last_scrape_connect_time_seconds", "gauge", "exporter", (),
       "Seconds the current connection to the server took to open."),
    _m("redis_exporter_scrapes_total", "counter", "exporter", (), "Current total redis scrapes."),
    _m("redis_exporter_scrape_duration_seconds", "summary", "exporter", (), "Durations of scrapes by the exporter"),
    _m("redis_last_key_groups_scrape_duration_milliseconds", "gauge", "exporter", (),
       "Duration of the last key group metrics scrape in milliseconds (no key groups: 0)."),
    _m("redis_db_keys", "gauge", "keyspace", ("db",), "Total number of keys by DB."),
    _m("redis_db_keys_expiring", "gauge", "keyspace", ("db",), "Total number of expiring keys by DB."),
    _m("redis_db_avg_ttl_seconds", "gauge", "keyspace", ("db",), "Average TTL by DB."),
    _m("redis_db_keys_cached", "gauge", "keyspace", ("db",), "Total number of cached keys by DB (KeyDB)."),
    *[_m(metric, "counter", "commandstats", ("cmd",), help_) for _key, metric, _scale, help_ in sections._CMD],
    _m("redis_errors_total", "counter", "errorstats", ("err",), "Error replies by error prefix."),
    _m("redis_latency_percentiles_usec", "summary", "latencystats", ("cmd", "quantile"),
       "A summary of latency percentile distribution per command."),
    _m("redis_master_link_up", "gauge", "replication", _MASTER, "1 if the replica's link to its master is up."),
    _m("redis_master_last_io_seconds_ago", "gauge", "replication", _MASTER,
       "Seconds since the last I/O with the master."),
    _m("redis_slave_repl_offset", "gauge", "replication", _MASTER, "Replication offset of this replica."),
    _m("redis_master_sync_in_progress", "gauge", "replication", _MASTER, "1 while syncing with the master."),
    _m("redis_connected_slave_offset_bytes", "gauge", "replication", _SLAVE, "Offset of connected replica."),
    _m("redis_connected_slave_lag_seconds", "gauge", "replication", _SLAVE, "Lag of connected replica."),
    _m("lookout_redis_replica_lag_bytes", "gauge", "replication", _SLAVE,
       "Bytes of the replication stream the replica has not acknowledged."),
    _m("redis_slowlog_length", "gauge", "slowlog", (), "Entries in the slow log."),
    _m("redis_slowlog_last_id", "gauge", "slowlog", (), "Id of the last slow log entry."),
    _m("redis_last_slow_execution_duration_seconds", "gauge", "slowlog", (),
       "Duration of the last slow command in seconds."),
    _m("redis_latency_spike_last", "gauge", "latency", ("event_name",), "When the latency spike last occurred."),
    _m("redis_latency_spike_duration_seconds", "gauge", "latency", ("event_name",),
       "Length of the last latency spike in seconds."),
    _m("lookout_redis_command_latency_seconds", "summary", "latency", ("quantile",),
       "Command latency percentile over the last poll interval, all commands (Redis 7+, LATENCY HISTOGRAM)."),
    *[_m(metric, "gauge", "derived", (), help_)
      for _key, metric, help_ in (derived.HIT_RATIO, derived.OPS, derived.EVICTIONS, derived.MEMORY, derived.CLIENTS)],
]
