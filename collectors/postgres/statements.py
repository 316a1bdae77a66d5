"""pg_stat_statements: the top statements by total time, when the extension
is there; otherwise a clear "not available" gauge and the reason why.

Column names differ by version (``total_time`` before 13, ``total_exec_time``
from 13, ``shared_blk_read_time`` from 17); :func:`normalise` maps each to one
shape, so recorded rows of every version feed the same function.
"""
from __future__ import annotations

from collectors.postgres.rows import Column, Ctx, Result, num
from core.samples import Sample

_ALIASES = {
    "total_ms": ("total_exec_time", "total_time"),
    "mean_ms": ("mean_exec_time", "mean_time"),
    "read_ms": ("shared_blk_read_time", "blk_read_time"),
    "write_ms": ("shared_blk_write_time", "blk_write_time"),
}
# (field, metric, kind, scale, help); labels user, datname, queryid as postgres_exporter.
_P = "pg_stat_statements_"
STATEMENTS: list[Column] = [
    ("calls", _P + "calls_total", "counter", 1, "Number of times executed"),
    ("total_ms", _P + "seconds_total", "counter", 0.001, "Total time spent in the statement, in seconds"),
    ("rows", _P + "rows_total", "counter", 1, "Total number of rows retrieved or affected by the statement"),
    ("read_ms", _P + "block_read_seconds_total", "counter", 0.001, "Total time the statement spent reading blocks, in seconds"),
    ("write_ms", _P + "block_write_seconds_total", "counter", 0.001, "Total time the statement spent writing blocks, in seconds"),
    ("mean_ms", _P + "mean_seconds", "gauge", 0.001, "Mean time spent in the statement, in seconds"),
    ("shared_blks_hit", _P + "shared_blks_hit_total", "counter", 1, "Total number of shared block cache hits by the statement"),
    ("shared_blks_read", _P + "shared_blks_read_total", "counter", 1, "Total number of shared blocks read by the statement"),
]


def availability(probe: dict) -> str | None:
    """None when pg_stat_statements can be read, else the reason (for people)."""
    preload = [p.strip() for p in str(probe.get("preload") or "").split(",")]
    if "pg_stat_statements" not in preload:
        return ("pg_stat_statements is not in shared_preload_libraries "
                "(add it in postgresql.conf and restart the server)")
    if not probe.get("extversion"):
        return (f"the pg_stat_statements extension is not installed in database {probe.get('datname')!r} "
                "(CREATE EXTENSION pg_stat_statements)")
    return None


def normalise(row: dict) -> dict:
    out = {k: row.get(k) for k in ("queryid", "user", "datname", "calls", "rows", "shared_blks_hit",
                                   "shared_blks_read", "query")}
    for key, names in _ALIASES.items():
        out[key] = next((row[n] for n in names if n in row), None)
    return out


def statements(rows: list[list[dict]], ctx: Ctx) -> Result:
    """``rows[0]`` is the probe row set; ``rows[1]`` (if available) the top statements, Lookout's
    own left out; ``rows[2]`` the totals of Lookout's own statements (see ``connection.MARK``)."""
    reason = availability(rows[0][0])
    r = Result()
    r.samples.append(Sample("lookout_pg_stat_statements_available", 0.0 if reason else 1.0,
                            help="1 if pg_stat_statements can be read, else 0 (see the document for why)."))
    top = []
    if reason is None and len(rows) > 1:
        for raw in rows[1]:
            row = normalise(raw)
            lab = {"user": str(row["user"] or "unknown"), "datname": str(row["datname"] or "unknown"),
                   "queryid": str(row["queryid"] or "unknown")}
            for field, metric, kind, scale, help_ in STATEMENTS:
                v = num(row[field])
                if v is not None:
                    r.samples.append(Sample(metric, v * scale, lab, kind, help_))
            hit, read = num(row["shared_blks_hit"]) or 0.0, num(row["shared_blks_read"]) or 0.0
            top.append({**lab, "calls": num(row["calls"]), "total_seconds": (num(row["total_ms"]) or 0.0) / 1000,
                        "mean_seconds": (num(row["mean_ms"]) or 0.0) / 1000, "rows": num(row["rows"]),
                        "shared_blks_hit": hit, "shared_blks_read": read,
                        "hit_ratio": hit / (hit + read) if hit + read else None, "query": row["query"]})
    own = None
    if reason is None and len(rows) > 2 and rows[2]:
        o = rows[2][0]
        own = {"statements": num(o.get("statements")), "calls": num(o.get("calls")),
               "total_seconds": (num(o.get("total_ms")) or 0.0) / 1000}
        r.samples.append(Sample("lookout_pg_own_statements_calls_total", own["calls"] or 0.0, {}, "counter",
                                "Calls of Lookout's own statements on this server (kept out of the top list)."))
        r.samples.append(Sample("lookout_pg_own_statements_seconds_total", own["total_seconds"], {}, "counter",
                                "Server time of Lookout's own statements on this server, in seconds."))
    r.documents["pg_stat_statements"] = {"available": reason is None, "reason": reason, "top": top, "lookout": own}
    return r
