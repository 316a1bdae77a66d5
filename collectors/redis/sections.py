"""The INFO sections with structured values: keyspace, commandstats,
errorstats, latencystats and replication, in redis_exporter's names and labels."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from collectors.redis.parse import kv_pairs, number
from core.samples import Sample

_SLAVE = re.compile(r"^slave\d+$")


def keyspace(section: dict[str, str], databases: int) -> Iterator[Sample]:
    seen = set()
    for db, raw in section.items():
        kv = kv_pairs(raw)
        keys, expires = number(kv.get("keys")), number(kv.get("expires"))
        if not db.startswith("db") or keys is None or expires is None:
            continue
        seen.add(db)
        yield Sample("redis_db_keys", keys, {"db": db}, help="Total number of keys by DB.")
        yield Sample("redis_db_keys_expiring", expires, {"db": db}, help="Total number of expiring keys by DB.")
        if (ttl := number(kv.get("avg_ttl"))) is not None:
            yield Sample("redis_db_avg_ttl_seconds", ttl / 1000, {"db": db}, help="Average TTL by DB.")
        if (cached := number(kv.get("cached_keys"))) is not None:  # KeyDB
            yield Sample("redis_db_keys_cached", cached, {"db": db}, help="Total number of cached keys by DB.")
    # redis_exporter pads the empty databases with zeros so panels show every db.
    for i in range(databases):
        if (db := f"db{i}") not in seen:
            yield Sample("redis_db_keys", 0.0, {"db": db}, help="Total number of keys by DB.")
            yield Sample("redis_db_keys_expiring", 0.0, {"db": db}, help="Total number of expiring keys by DB.")


_CMD = (("calls", "redis_commands_total", 1.0, "Total number of calls per command."),
        ("usec", "redis_commands_duration_seconds_total", 1e-6, "Total time spent per command."),
        ("rejected_calls", "redis_commands_rejected_calls_total", 1.0, "Rejected calls per command."),
        ("failed_calls", "redis_commands_failed_calls_total", 1.0, "Failed calls per command."))


def commandstats(section: dict[str, str]) -> Iterator[Sample]:
    for field, raw in section.items():
        if not field.startswith("cmdstat_"):
            continue
        kv, labels = kv_pairs(raw), {"cmd": field[len("cmdstat_"):]}
        for key, metric, scale, help_ in _CMD:
            if (v := number(kv.get(key))) is not None:
                yield Sample(metric, v * scale, labels, kind="counter", help=help_)


def errorstats(section: dict[str, str]) -> Iterator[Sample]:
    for field, raw in section.items():
        if field.startswith("errorstat_") and (v := number(kv_pairs(raw).get("count"))) is not None:
            yield Sample("redis_errors_total", v, {"err": field[len("errorstat_"):]}, kind="counter",
                         help="Error replies by error prefix.")


def latency_summaries(latency: dict[str, str], commands: dict[str, str]) -> Iterator[Sample]:
    """Redis 7's per-command percentiles since start, as redis_exporter's summary.

    ``latency_percentiles_usec_get:p50=1.003,p99=2.007,p99.9=4.015`` gives the quantiles
    (labelled in percent, "50" "99" "99.9", as the exporter does); ``cmdstat_get``'s calls
    and usec give ``_count`` and ``_sum`` (microseconds). A command without both is skipped.
    """
    for field, raw in latency.items():
        if not field.startswith("latency_percentiles_usec_"):
            continue
        cmd = field[len("latency_percentiles_usec_"):]
        stats = kv_pairs(commands.get(f"cmdstat_{cmd}", ""))
        calls, usec = number(stats.get("calls")), number(stats.get("usec"))
        quantiles = [(number(p[1:]), number(v)) for p, v in kv_pairs(raw).items() if p.startswith("p")]
        if calls is None or usec is None or not quantiles or any(q is None or v is None for q, v in quantiles):
            continue
        labels = {"cmd": cmd}
        for q, v in quantiles:
            yield Sample("redis_latency_percentiles_usec", v, {**labels, "quantile": f"{q:g}"}, "summary", _LAT)
        yield Sample("redis_latency_percentiles_usec_sum", usec, labels, "summary", _LAT)
        yield Sample("redis_latency_percentiles_usec_count", calls, labels, "summary", _LAT)


_LAT = "A summary of latency percentile distribution per command."


def replication(section: dict[str, str], flat: dict[str, str]) -> Iterator[Sample]:
    master = {"master_host": flat.get("master_host", ""), "master_port": flat.get("master_port", "")}
    if "master_link_status" in section:
        yield Sample("redis_master_link_up", 1.0 if section["master_link_status"] == "up" else 0.0, master,
                     help="1 if the replica's link to its master is up.")
        for field, help_ in (("master_last_io_seconds_ago", "Seconds since the last I/O with the master."),
                             ("slave_repl_offset", "Replication offset of this replica."),
                             ("master_sync_in_progress", "1 while syncing with the master.")):
            if (v := number(section.get(field))) is not None:
                yield Sample(f"redis_{field}", v, master, help=help_)
    own = number(flat.get("master_repl_offset"))
    for field, raw in section.items():
        if not _SLAVE.match(field):
            continue
        kv = kv_pairs(raw)
        labels = {"slave_ip": kv.get("ip", ""), "slave_port": kv.get("port", ""), "slave_state": kv.get("state", "")}
        if (offset := number(kv.get("offset"))) is not None:
            yield Sample("redis_connected_slave_offset_bytes", offset, labels, help="Offset of connected replica.")
            if own is not None:
                yield Sample("lookout_redis_replica_lag_bytes", max(0.0, own - offset), labels,
                             help="Bytes of the replication stream the replica has not acknowledged.")
        if (lag := number(kv.get("lag"))) is not None:
            yield Sample("redis_connected_slave_lag_seconds", lag, labels, help="Lag of connected replica.")


# -- the replication document (the dashboard's, not metrics) --------------------------------

def replication_doc(section: dict[str, str]) -> dict[str, Any]:
    doc: dict[str, Any] = {"role": section.get("role")}
    if "master_link_status" in section:
        doc.update(master_host=section.get("master_host"), master_port=section.get("master_port"),
                   link_status=section.get("master_link_status"),
                   last_io_seconds_ago=number(section.get("master_last_io_seconds_ago")))
    doc["replicas"] = [dict(p.split("=", 1) for p in v.split(",") if "=" in p)
                       for k, v in section.items() if _SLAVE.match(k)]
    return doc
