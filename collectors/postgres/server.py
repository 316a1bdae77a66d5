"""Server-wide families: instance, settings, pg_stat_database, sizes,
wraparound and the WAL directory, background writer / checkpointer, WAL
position and counters, replication.

Every function maps result rows (lists of dicts, as psycopg's dict_row or a
recorded JSON file gives them) to samples: pure, no I/O. Names follow
postgres_exporter where it has the metric.
"""
from __future__ import annotations

import re

from collectors.postgres.rows import Column, Ctx, Result, jsonable, mapped, num, ratio, req
from collectors.postgres.sql import SETTINGS
from core.samples import Sample

# postgres_exporter's pg_settings units: (factor to the base unit, suffix).
_UNIT = {"ms": (0.001, "_seconds"), "s": (1.0, "_seconds"), "min": (60.0, "_seconds"), "h": (3600.0, "_seconds"),
         "d": (86400.0, "_seconds"), "B": (1.0, "_bytes"), "kB": (2.0 ** 10, "_bytes"), "MB": (2.0 ** 20, "_bytes"),
         "GB": (2.0 ** 30, "_bytes"), "TB": (2.0 ** 40, "_bytes"),
         **{f"{n}kB": (n * 2.0 ** 10, "_bytes") for n in (1, 2, 4, 8, 16, 32, 64)},
         **{f"{n}MB": (n * 2.0 ** 20, "_bytes") for n in (16, 32, 64)}}


def instance(rows: list[list[dict]], ctx: Ctx) -> Result:
    info, dbs = rows[0][0], rows[1]
    r = Result()
    r.samples.append(Sample("pg_up", 1.0, help="Whether the last scrape of the server was able to connect (1) or not (0)."))
    version = str(info["server_version"])
    server = {"server": ctx.options["server"]} if ctx.options.get("server") else {}
    r.samples.append(Sample("pg_static", 1.0, {"version": str(info.get("version") or version),
                                               "short_version": short_version(version), **server},
                            help="Version string as reported by postgres."))
    start = req(info["start_time"])
    r.samples.append(Sample("pg_postmaster_start_time_seconds", start, help="Time at which postmaster started."))
    r.samples.append(Sample("lookout_pg_uptime_seconds", req(info["now"]) - start,
                            help="Seconds since the postmaster started."))
    r.documents["pg_server"] = {
        "version": version, "version_num": int(info["server_version_num"]), "start_time": start,
        "in_recovery": bool(info["in_recovery"]), "databases": [d["datname"] for d in dbs],
    }
    return r


def settings(rows: list[list[dict]], ctx: Ctx) -> Result:
    """Every numeric and boolean setting with the server's value; database and role connection limits."""
    in_recovery, rows_ = rows[0][0]["in_recovery"], rows[1]
    r = Result()
    shown = {}
    server_value = {s["name"]: _server_setting(s) for s in rows_}
    if "transaction_read_only" in server_value:  # what a new session's transaction gets
        server_value["transaction_read_only"] = "on" if in_recovery else \
            server_value.get("default_transaction_read_only", "off")
    for s in rows_:
        s = {**s, "setting": server_value[s["name"]]}
        value, name = setting_value(s)
        if value is None:
            continue
        if s["name"] in SETTINGS:
            shown[s["name"]] = f"{s['setting']}{s.get('unit') or ''}"
        r.samples.append(Sample(name, value, help=_setting_help(s)))
    for row in rows[2] if len(rows) > 2 else []:
        r.samples.append(Sample("pg_database_connection_limit", num(row["datconnlimit"]), {"datname": row["datname"]},
                                help="Connection limit set for the database"))
    for row in rows[3] if len(rows) > 3 else []:
        r.samples.append(Sample("pg_roles_connection_limit", num(row["rolconnlimit"]), {"rolname": row["rolname"]},
                                help="Connection limit set for the role"))
    r.documents["pg_settings"] = shown
    return r


def short_version(version: str) -> str:
    """The exporter's semver of ``server_version``: "15.20 (Debian ...)" gives "15.20.0", "18beta1" "18.0.0"."""
    m = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", version.strip())
    return ".".join(g or "0" for g in m.groups()) if m else "0.0.0"


def _server_setting(row: dict) -> str:
    # Lookout SETs its timeouts on its own session: the server's value is what RESET gives back.
    if row.get("source") == "session" and row.get("reset_val") is not None:
        return str(row["reset_val"])
    return str(row["setting"])


def _setting_help(row: dict) -> str:
    _, suffix = _UNIT.get(row.get("unit") or "", (1.0, ""))
    unit = suffix.lstrip("_")
    return f"Server Parameter: {row['name']}" + (f" [Units converted to {unit}.]" if unit else "")


def setting_value(row: dict) -> tuple[float | None, str]:
    """(value in base units, series name) of a pg_settings row, as postgres_exporter converts it.

    An unknown unit gives no value (the exporter logs and skips it); -1 ("disabled") stays -1.
    """
    name = "pg_settings_" + row["name"].replace(".", "_").replace("-", "_")
    if row["vartype"] == "bool":
        return (1.0 if row["setting"] == "on" else 0.0), name
    v = num(row["setting"])
    if v is None:
        return None, name
    unit = row.get("unit") or ""
    if unit not in _UNIT:
        return (v, name) if not unit else (None, name)
    scale, suffix = _UNIT[unit]
    return (v if v == -1 else v * scale), name + suffix


_setting_value = setting_value  # the name the recorded-row tests know


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
    ("stats_reset", "pg_stat_database_stats_reset", "counter", 1, "Time at which these statistics were last reset."),
    ("active_time", "pg_stat_database_active_time_seconds_total", "counter", 0.001, "Time spent executing SQL statements in this database, in seconds."),
    # The columns postgres_exporter 0.11 serves untyped under their own names (PostgreSQL 14+).
    ("active_time", "pg_stat_database_active_time", "counter", 1, "Time spent executing SQL statements in this database, in milliseconds."),
    ("idle_in_transaction_time", "pg_stat_database_idle_in_transaction_time", "counter", 1, "Time spent idling while in a transaction in this database, in milliseconds."),
    ("session_time", "pg_stat_database_session_time", "counter", 1, "Time spent by database sessions in this database, in milliseconds."),
    ("sessions", "pg_stat_database_sessions", "counter", 1, "Total number of sessions established to this database."),
    ("sessions_abandoned", "pg_stat_database_sessions_abandoned", "counter", 1, "Number of database sessions to this database that were terminated because connection to the client was lost."),
    ("sessions_fatal", "pg_stat_database_sessions_fatal", "counter", 1, "Number of database sessions to this database that were terminated by fatal errors."),
    ("sessions_killed", "pg_stat_database_sessions_killed", "counter", 1, "Number of database sessions to this database that were terminated by operator intervention."),
    ("checksum_failures", "pg_stat_database_checksum_failures", "counter", 1, "Number of data page checksum failures detected in this database."),
    ("checksum_last_failure", "pg_stat_database_checksum_last_failure", "gauge", 1, "Time at which the last data page checksum failure was detected in this database."),
]
CONFLICTS: list[Column] = [
    (c, f"pg_stat_database_conflicts_{c}", "counter", 1, f"Number of queries in this database that have been canceled due to {h}") for c, h in [
        ("confl_tablespace", "dropped tablespaces"), ("confl_lock", "lock timeouts"), ("confl_snapshot", "old snapshots"),
        ("confl_bufferpin", "pinned buffers"), ("confl_deadlock", "deadlocks"),
    ]
]


def database(rows: list[list[dict]], ctx: Ctx) -> Result:
    """Every row of pg_stat_database, templates and the shared row (datname "") too, as the exporter."""
    r = Result()
    prev: dict = ctx.state.setdefault("blks", {})
    for row in rows[0]:
        dat = row["datname"] or ""
        r.samples += mapped(row, DATABASE, {"datid": str(row.get("datid", "")), "datname": dat})
        hit, read = num(row.get("blks_hit")), num(row.get("blks_read"))
        h = ratio(hit, read, prev.get(dat))
        if h is not None:
            r.samples.append(Sample("lookout_pg_database_cache_hit_ratio", h, {"datname": dat},
                                    help="Share of block requests served from the buffer cache since the previous poll."))
        if hit is not None and read is not None:
            prev[dat] = (hit, read)
    server = {"server": ctx.options["server"]} if ctx.options.get("server") else {}
    for row in rows[1] if len(rows) > 1 else []:  # the exporter's builtin map: labelled with its server
        r.samples += mapped(row, CONFLICTS, {"datid": str(row.get("datid", "")), "datname": row["datname"] or "",
                                             **server})
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


ARCHIVER: list[Column] = [
    ("archived_count", "pg_stat_archiver_archived_count", "counter", 1, "Number of WAL files that have been successfully archived"),
    ("failed_count", "pg_stat_archiver_failed_count", "counter", 1, "Number of failed attempts for archiving WAL files"),
    ("last_archive_age", "pg_stat_archiver_last_archive_age", "gauge", 1, "Time in seconds since last WAL segment was successfully archived"),
]


def wal(rows: list[list[dict]], ctx: Ctx) -> Result:
    r = Result()
    lsn = num(rows[0][0]["current_wal_lsn_bytes"])
    if lsn is not None:
        # A position, typed gauge as the exporter's LSN families (a counter would need _total).
        r.samples.append(Sample("lookout_pg_wal_lsn_bytes", lsn,
                                help="Current WAL write position in bytes (primary only)."))
    if len(rows) > 1 and rows[1]:
        r.samples += mapped(rows[1][0], ARCHIVER, {})
    if len(rows) > 2 and rows[2]:  # pg_stat_wal, PostgreSQL 14+
        r.samples += mapped(rows[2][0], WAL, {})
    return r


def replication(rows: list[list[dict]], ctx: Ctx) -> Result:
    """postgres_exporter's replication, stat_replication and replication_slots collectors, with the
    names older releases used beside the current ones (dashboards in the wild use both)."""
    head, replicas, slots = rows[0][0], rows[1], rows[2]
    r = Result()
    add = r.samples.append
    add(Sample("pg_replication_lag_seconds", num(head["lag"]), help="Replication lag behind master in seconds"))
    add(Sample("pg_replication_is_replica", num(head["in_recovery"]), help="Indicates if the server is a replica"))
    add(Sample("pg_replication_last_replay_seconds", num(head.get("last_replay")), help="Age of last replay in seconds"))
    add(Sample("pg_replication_lag", num(head.get("old_lag")), help="Replication lag behind master in seconds"))
    add(Sample("lookout_pg_replication_replicas", float(len(replicas)), help="Number of connected WAL senders (replicas)."))
    for rep in replicas:
        lab = {k: str(rep.get(k) or "") for k in ("application_name", "client_addr", "state", "slot_name")}
        short = {"application_name": lab["application_name"], "client_addr": lab["client_addr"]}
        add(Sample("pg_stat_replication_pg_current_wal_lsn_bytes", num(rep.get("current_wal_lsn_bytes")), lab,
                   help="WAL position in bytes"))
        add(Sample("pg_stat_replication_pg_wal_lsn_diff", num(rep["replay_lag_bytes"]), lab,
                   help="Lag in bytes between master and slave"))
        for col in ("replay_lag_seconds", "write_lag_seconds", "flush_lag_seconds"):
            v = num(rep[col])
            add(Sample(f"lookout_pg_replication_{col}", 0.0 if v is None else v, short,
                       help=f"{col.split('_')[0].capitalize()} lag of the replica in seconds (0 when idle)."))
    for s in slots:
        by_db = {"slot_name": s["slot_name"] or "", "database": s["database"] or ""}
        by_type = {"slot_name": s["slot_name"] or "", "slot_type": s["slot_type"] or ""}
        active = num(s["active"])
        add(Sample("pg_replication_slots_active", active, by_db, help="Flag indicating if the slot is active"))
        add(Sample("pg_replication_slots_pg_wal_lsn_diff", num(s["retained_bytes"]), by_db, help="Replication lag in bytes"))
        add(Sample("lookout_pg_replication_slot_retained_wal_bytes", num(s["retained_bytes"]),
                   {**by_type, "database": by_db["database"]}, help="WAL retained on the server for the slot, in bytes."))
        for prefix in ("pg_replication_slots_", "pg_replication_slot_"):  # current and 0.13-0.19 names
            add(Sample(prefix + "slot_current_wal_lsn", num(s.get("current_wal_lsn")), by_type, help="current wal lsn value"))
            if active and num(s.get("confirmed_flush_lsn")) is not None:
                add(Sample(prefix + "slot_confirmed_flush_lsn", num(s["confirmed_flush_lsn"]), by_type,
                           help="last lsn confirmed flushed to the replication slot"))
            add(Sample(prefix + "slot_is_active", active, by_type, help="whether the replication slot is active or not"))
            add(Sample(prefix + "safe_wal_size_bytes", num(s.get("safe_wal_size")), by_type,
                       help="number of bytes that can be written to WAL such that this slot is not in danger of getting in state lost"))
            if s.get("wal_status"):
                add(Sample(prefix + "wal_status", 1.0, {**by_type, "wal_status": str(s["wal_status"])},
                           help="availability of WAL files claimed by this slot"))
    r.documents["pg_replication"] = {"in_recovery": bool(head["in_recovery"]), "replicas": jsonable(replicas),
                                     "slots": jsonable(slots)}
    return r
