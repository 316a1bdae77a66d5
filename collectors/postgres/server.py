"""Server-wide families: instance and settings, pg_stat_database, sizes,
wraparound and the WAL directory, background writer / checkpointer, WAL
position and counters, replication.

Every function maps result rows (lists of dicts, as psycopg's dict_row or a
recorded JSON file gives them) to samples: pure, no I/O. Names follow
postgres_exporter where it has the metric.
"""
from __future__ import annotations

from collectors.postgres.rows import Column, Ctx, Result, jsonable, mapped, num, ratio, req
from collectors.postgres.sql import SETTINGS
from core.samples import Sample

_UNIT = {"kB": (1024.0, "_bytes"), "8kB": (8192.0, "_bytes"), "MB": (1024.0 ** 2, "_bytes"),
         "B": (1.0, "_bytes"), "ms": (0.001, "_seconds"), "s": (1.0, "_seconds"), "min": (60.0, "_seconds")}


def instance(rows: list[list[dict]], ctx: Ctx) -> Result:
    info, settings, dbs = rows[0][0], rows[1], rows[2]
    r = Result()
    r.samples.append(Sample("pg_up", 1.0, help="Whether the last scrape of the server was able to connect (1) or not (0)."))
    version = str(info["server_version"])
    r.samples.append(Sample("pg_static", 1.0, {"version": version, "short_version": version.split()[0]},
                            help="Version string as reported by postgres."))
    start = req(info["start_time"])
    r.samples.append(Sample("pg_postmaster_start_time_seconds", start, help="Time at which postmaster started."))
    r.samples.append(Sample("lookout_pg_uptime_seconds", req(info["now"]) - start,
                            help="Seconds since the postmaster started."))
    shown = {}
    for s in settings:
        value, name = _setting_value(s)
        if value is None:
            continue
        shown[s["name"]] = f"{s['setting']}{s.get('unit') or ''}"
        r.samples.append(Sample(name, value, help=f"Server Parameter: {s['name']} [Units converted to base units]"))
    r.documents["pg_server"] = {
        "version": version, "version_num": int(info["server_version_num"]), "start_time": start,
        "in_recovery": bool(info["in_recovery"]), "settings": shown,
        "databases": [d["datname"] for d in dbs],
    }
    return r


def _setting_value(row: dict) -> tuple[float | None, str]:
    name = "pg_settings_" + row["name"].replace(".", "_")
    if row["vartype"] == "bool":
        return (1.0 if row["setting"] == "on" else 0.0), name
    v = num(row["setting"])
    if v is None or row["name"] not in SETTINGS:
        return None, name
    scale, suffix = _UNIT.get(row.get("unit") or "", (1.0, ""))
    if v < 0:  # -1 means "disabled"/"unlimited": keep it as is
        scale = 1.0
    return v * scale, name + suffix


DATABASE: list[Column] = [
    ("numbackends", "pg_stat_database_numbackends", "gauge", 1, "Number of backends currently connected to this database."),
    ("xact_commit", "pg_stat_database_xact_commit", "counter", 1, "Number of transactions in this database that have been committed."),
    ("xact_rollback", "pg_stat_database_xact_rollback", "counter", 1, "Number of transactions in this database that have been rolled back."),
    ("blks_read", "pg_stat_database_blks_read", "counter", 1, "Number of disk blocks read in this database."),
    ("blks_hit", "pg_stat_database_blks_hit", "counter", 1, "Number of times disk blocks were found already in the buffer cache."),
    ("tup_returned", "pg_stat_database_tup_returned", "counter", 1, "Number of rows returned by queries in this database."),
    ("tup_fetched", "pg_stat_database_tup_fetched", "counter", 1, "Number of rows fetched by queries in this database."),
    ("tup_inserted", "pg_stat_database_tup_inserted", "counter", 1, "Number of rows inserted by queries in this database."),
    ("tup_updated", "pg_stat_database_tup_updated", "counter", 1, "Number of rows updated by queries in this database."),
    ("tup_deleted", "pg_stat_database_tup_deleted", "counter", 1, "Number of rows deleted by queries in this database."),
    ("conflicts", "pg_stat_database_conflicts", "counter", 1, "Number of queries canceled due to conflicts with recovery."),
    ("temp_files", "pg_stat_database_temp_files", "counter", 1, "Number of temporary files created by queries."),
    ("temp_bytes", "pg_stat_database_temp_bytes", "counter", 1, "Total amount of data written to temporary files by queries."),
    ("deadlocks", "pg_stat_database_deadlocks", "counter", 1, "Number of deadlocks detected in this database."),
    ("blk_read_time", "pg_stat_database_blk_read_time", "counter", 1, "Time spent reading data file blocks by backends, in milliseconds."),
    ("blk_write_time", "pg_stat_database_blk_write_time", "counter", 1, "Time spent writing data file blocks by backends, in milliseconds."),
    ("stats_reset", "pg_stat_database_stats_reset", "gauge", 1, "Time at which these statistics were last reset."),
    ("active_time", "pg_stat_database_active_time_seconds_total", "counter", 0.001, "Time spent executing SQL statements in this database, in seconds."),
    ("sessions", "pg_stat_database_sessions_total", "counter", 1, "Total number of sessions established to this database."),
]


def database(rows: list[list[dict]], ctx: Ctx) -> Result:
    r = Result()
    prev: dict = ctx.state.setdefault("blks", {})
    watched = set(ctx.watched)
    for row in rows[0]:
        dat = row["datname"]
        if watched and dat not in watched:
            continue
        r.samples += mapped(row, DATABASE, {"datid": str(row.get("datid", "")), "datname": dat})
        hit, read = num(row.get("blks_hit")), num(row.get("blks_read"))
        h = ratio(hit, read, prev.get(dat))
        if h is not None:
            r.samples.append(Sample("lookout_pg_database_cache_hit_ratio", h, {"datname": dat},
                                    help="Share of block requests served from the buffer cache since the previous poll."))
        if hit is not None and read is not None:
            prev[dat] = (hit, read)
    return r


def sizes(rows: list[list[dict]], ctx: Ctx) -> Result:
    r = Result()
    for row in rows[0]:
        lab = {"datname": row["datname"]}
        r.samples.append(Sample("pg_database_size_bytes", num(row["size_bytes"]), lab, help="Disk space used by the database."))
        frozen = req(row["age_datfrozenxid"])
        r.samples.append(Sample("pg_database_wraparound_age_datfrozenxid_seconds", frozen, lab,
                                help="Age of the oldest transaction ID that has not been frozen."))
        r.samples.append(Sample("pg_database_wraparound_age_datminmxid_seconds", num(row["age_datminmxid"]), lab,
                                help="Age of the oldest multi-transaction ID that has been replaced with a transaction ID."))
        r.samples.append(Sample("lookout_pg_database_wraparound_ratio", frozen / 2 ** 31, lab,
                                help="Transaction ID age as a share of the 2^31 wraparound limit."))
    if len(rows) > 1 and rows[1]:  # the pg_wal directory (pg_ls_waldir), a file-system scan
        r.samples.append(Sample("pg_wal_segments", num(rows[1][0]["segments"]), help="Number of WAL segments"))
        r.samples.append(Sample("pg_wal_size_bytes", num(rows[1][0]["size"]), help="Total size of WAL segments"))
    return r


BGWRITER: list[Column] = [
    (c, f"pg_stat_bgwriter_{c}_total", "counter", 1, h) for c, h in [
        ("checkpoints_timed", "Number of scheduled checkpoints that have been performed"),
        ("checkpoints_req", "Number of requested checkpoints that have been performed"),
        ("checkpoint_write_time", "Time spent writing checkpoint files to disk, in milliseconds"),
        ("checkpoint_sync_time", "Time spent synchronizing checkpoint files to disk, in milliseconds"),
        ("buffers_checkpoint", "Number of buffers written during checkpoints"),
        ("buffers_clean", "Number of buffers written by the background writer"),
        ("maxwritten_clean", "Number of times the background writer stopped a cleaning scan because it had written too many buffers"),
        ("buffers_backend", "Number of buffers written directly by a backend"),
        ("buffers_backend_fsync", "Number of times a backend had to execute its own fsync call"),
        ("buffers_alloc", "Number of buffers allocated"),
        ("stats_reset", "Time at which these statistics were last reset"),
    ]
]
CHECKPOINTER: list[Column] = [
    (c, f"pg_stat_checkpointer_{m}_total", "counter", 1, h) for c, m, h in [
        ("num_timed", "num_timed", "Number of scheduled checkpoints that have been performed"),
        ("num_requested", "num_requested", "Number of requested checkpoints that have been performed"),
        ("num_done", "num_done", "Number of checkpoints that have been completed"),
        ("restartpoints_timed", "restartpoints_timed", "Number of scheduled restartpoints due to timeout or after a failed attempt"),
        ("restartpoints_req", "restartpoints_req", "Number of requested restartpoints"),
        ("restartpoints_done", "restartpoints_done", "Number of restartpoints that have been performed"),
        ("write_time", "write_time", "Time spent writing checkpoint files to disk, in milliseconds"),
        ("sync_time", "sync_time", "Time spent synchronizing checkpoint files to disk, in milliseconds"),
        ("buffers_written", "buffers_written", "Number of buffers written during checkpoints and restartpoints"),
        ("stats_reset", "stats_reset", "Time at which these statistics were last reset"),
    ]
]


def bgwriter(rows: list[list[dict]], ctx: Ctx) -> Result:
    r = Result(mapped(rows[0][0], BGWRITER, {}))
    if len(rows) > 1:  # PostgreSQL 17+: pg_stat_checkpointer
        r.samples += mapped(rows[1][0], CHECKPOINTER, {})
    return r


WAL: list[Column] = [
    (c, f"pg_stat_wal_{c.removeprefix('wal_')}_total", "counter", s, h) for c, s, h in [
        ("wal_records", 1, "Total number of WAL records generated"),
        ("wal_fpi", 1, "Total number of WAL full page images generated"),
        ("wal_bytes", 1, "Total amount of WAL generated in bytes"),
        ("wal_buffers_full", 1, "Number of times WAL data was written to disk because WAL buffers became full"),
        ("wal_write", 1, "Number of times WAL buffers were written out to disk"),
        ("wal_sync", 1, "Number of times WAL files were synced to disk"),
    ]
]


def wal(rows: list[list[dict]], ctx: Ctx) -> Result:
    r = Result()
    lsn = num(rows[0][0]["current_wal_lsn_bytes"])
    if lsn is not None:
        r.samples.append(Sample("lookout_pg_wal_lsn_bytes", lsn, kind="counter",
                                help="Current WAL write position in bytes (primary only)."))
    if len(rows) > 1 and rows[1]:  # pg_stat_wal, PostgreSQL 14+
        r.samples += mapped(rows[1][0], WAL, {})
    return r


def replication(rows: list[list[dict]], ctx: Ctx) -> Result:
    head, replicas, slots = rows[0][0], rows[1], rows[2]
    r = Result()
    r.samples.append(Sample("pg_replication_lag_seconds", num(head["lag"]), help="Replication lag behind master in seconds"))
    r.samples.append(Sample("pg_replication_is_replica", num(head["in_recovery"]), help="Indicates if the server is a replica"))
    r.samples.append(Sample("lookout_pg_replication_replicas", float(len(replicas)), help="Number of connected WAL senders (replicas)."))
    for rep in replicas:
        lab = {k: str(rep[k]) for k in ("application_name", "client_addr", "state", "sync_state")}
        short = {"application_name": lab["application_name"], "client_addr": lab["client_addr"]}
        for col, metric, help_ in [
            ("replay_lag_bytes", "pg_stat_replication_pg_wal_lsn_diff", "Lag in bytes between master and slave"),
        ]:
            if num(rep[col]) is not None:
                r.samples.append(Sample(metric, num(rep[col]), lab, help=help_))
        for col in ("replay_lag_seconds", "write_lag_seconds", "flush_lag_seconds"):
            v = num(rep[col])
            r.samples.append(Sample(f"lookout_pg_replication_{col}", 0.0 if v is None else v, short,
                                    help=f"{col.split('_')[0].capitalize()} lag of the replica in seconds (0 when idle)."))
    for s in slots:
        lab = {"slot_name": s["slot_name"], "slot_type": s["slot_type"], "database": s["database"]}
        r.samples.append(Sample("pg_replication_slot_slot_is_active", num(s["active"]), lab,
                                help="Whether the replication slot is active"))
        if num(s["retained_bytes"]) is not None:
            r.samples.append(Sample("lookout_pg_replication_slot_retained_wal_bytes", num(s["retained_bytes"]), lab,
                                    help="WAL retained on the server for the slot, in bytes."))
        if num(s.get("safe_wal_size")) is not None:
            r.samples.append(Sample("pg_replication_slot_safe_wal_size_bytes", num(s["safe_wal_size"]), lab,
                                    help="Number of bytes that can be written to WAL such that this slot is not in danger of getting in state lost"))
    r.documents["pg_replication"] = {"in_recovery": bool(head["in_recovery"]), "replicas": jsonable(replicas),
                                     "slots": jsonable(slots)}
    return r
