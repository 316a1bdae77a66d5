"""Per-database families: tables (pg_stat_user_tables, pg_statio_user_tables),
the index audit (unused, duplicate, invalid) and sequences near their maximum.
Labels carry ``datname`` like postgres_exporter's per-database collectors.
"""
from __future__ import annotations

from collectors.postgres.rows import Column, Ctx, Result, jsonable, mapped, num, ratio
from core.samples import Kind, Sample

_T = "pg_stat_user_tables_"
_IO = "pg_statio_user_tables_"
_COUNTER: Kind = "counter"
TABLES: list[Column] = [
    ("seq_scan", _T + "seq_scan", "counter", 1, "Number of sequential scans initiated on this table"),
    ("seq_tup_read", _T + "seq_tup_read", "counter", 1, "Number of live rows fetched by sequential scans"),
    ("idx_scan", _T + "idx_scan", "counter", 1, "Number of index scans initiated on this table"),
    ("idx_tup_fetch", _T + "idx_tup_fetch", "counter", 1, "Number of live rows fetched by index scans"),
    ("n_tup_ins", _T + "n_tup_ins", "counter", 1, "Number of rows inserted"),
    ("n_tup_upd", _T + "n_tup_upd", "counter", 1, "Number of rows updated"),
    ("n_tup_del", _T + "n_tup_del", "counter", 1, "Number of rows deleted"),
    ("n_tup_hot_upd", _T + "n_tup_hot_upd", "counter", 1, "Number of rows HOT updated"),
    ("n_live_tup", _T + "n_live_tup", "gauge", 1, "Estimated number of live rows"),
    ("n_dead_tup", _T + "n_dead_tup", "gauge", 1, "Estimated number of dead rows"),
    ("n_mod_since_analyze", _T + "n_mod_since_analyze", "gauge", 1, "Estimated number of rows changed since last analyze"),
    ("last_vacuum", _T + "last_vacuum", "gauge", 1, "Last time at which this table was manually vacuumed"),
    ("last_autovacuum", _T + "last_autovacuum", "gauge", 1, "Last time at which this table was vacuumed by the autovacuum daemon"),
    ("last_analyze", _T + "last_analyze", "gauge", 1, "Last time at which this table was manually analyzed"),
    ("last_autoanalyze", _T + "last_autoanalyze", "gauge", 1, "Last time at which this table was analyzed by the autovacuum daemon"),
    ("vacuum_count", _T + "vacuum_count", "counter", 1, "Number of times this table has been manually vacuumed"),
    ("autovacuum_count", _T + "autovacuum_count", "counter", 1, "Number of times this table has been vacuumed by autovacuum"),
    ("analyze_count", _T + "analyze_count", "counter", 1, "Number of times this table has been manually analyzed"),
    ("autoanalyze_count", _T + "autoanalyze_count", "counter", 1, "Number of times this table has been analyzed by autovacuum"),
    ("index_size_bytes", _T + "index_size_bytes", "gauge", 1, "Total disk space used by the indexes on this table"),
    ("table_size_bytes", _T + "table_size_bytes", "gauge", 1, "Total disk space used by this table"),
]
TABLES += [
    (c, _IO + m, _COUNTER, 1, h) for c, m, h in [
        ("heap_blks_read", "heap_blocks_read", "Number of disk blocks read from this table"),
        ("heap_blks_hit", "heap_blocks_hit", "Number of buffer hits in this table"),
        ("idx_blks_read", "idx_blocks_read", "Number of disk blocks read from all indexes on this table"),
        ("idx_blks_hit", "idx_blocks_hit", "Number of buffer hits in all indexes on this table"),
        ("toast_blks_read", "toast_blocks_read", "Number of disk blocks read from this table's TOAST table"),
        ("toast_blks_hit", "toast_blocks_hit", "Number of buffer hits in this table's TOAST table"),
        ("tidx_blks_read", "tidx_blocks_read", "Number of disk blocks read from this table's TOAST table indexes"),
        ("tidx_blks_hit", "tidx_blocks_hit", "Number of buffer hits in this table's TOAST table indexes"),
    ]
]


_NEVER = ("last_vacuum", "last_autovacuum", "last_analyze", "last_autoanalyze")


def tables(rows: list[list[dict]], ctx: Ctx) -> Result:
    r = Result()
    prev: dict = ctx.state.setdefault("io", {})
    seen = {}
    for row in rows[0]:
        lab = {"datname": ctx.datname, "schemaname": row["schemaname"], "relname": row["relname"]}
        key = (row["schemaname"], row["relname"])
        # Never vacuumed or analyzed: 0 (the epoch), as postgres_exporter's COALESCE(..., '1970-01-01Z').
        r.samples += mapped({**row, **{c: row[c] or 0 for c in _NEVER}}, TABLES, lab)
        vac = [v for v in (num(row["last_vacuum"]), num(row["last_autovacuum"])) if v is not None]
        ana = [v for v in (num(row["last_analyze"]), num(row["last_autoanalyze"])) if v is not None]
        if vac:
            r.samples.append(Sample("lookout_pg_table_vacuum_age_seconds", ctx.now - max(vac), lab,
                                    help="Seconds since the table was last vacuumed (manually or by autovacuum)."))
        if ana:
            r.samples.append(Sample("lookout_pg_table_analyze_age_seconds", ctx.now - max(ana), lab,
                                    help="Seconds since the table was last analyzed (manually or by autovacuum)."))
        counts = {c: num(row[c]) for c in ("heap_blks_hit", "heap_blks_read", "idx_blks_hit", "idx_blks_read")}
        old = prev.get(key, {})
        for part in ("heap", "idx"):
            h = ratio(counts[f"{part}_blks_hit"], counts[f"{part}_blks_read"], old.get(part))
            if h is not None:
                name = "heap" if part == "heap" else "index"
                r.samples.append(Sample(f"lookout_pg_table_{name}_cache_hit_ratio", h, lab,
                                        help=f"Share of {name} block requests served from the buffer cache since the previous poll."))
        seen[key] = {p: (counts[f"{p}_blks_hit"] or 0.0, counts[f"{p}_blks_read"] or 0.0) for p in ("heap", "idx")}
    prev.clear()
    prev.update(seen)
    return r


def indexes(rows: list[list[dict]], ctx: Ctx) -> Result:
    # Each finding names its database too, so a list merged across databases (a panel, an
    # alert's {items}) still says where the index lives: shop.public.orders_status_idx2.
    unused, duplicate, invalid = ([{"datname": ctx.datname, **i} for i in jsonable(x)] for x in rows)
    lab = {"datname": ctx.datname}
    r = Result()
    for kind, items, what in [("unused", unused, "with no scans since the statistics were reset"),
                              ("duplicate", duplicate, "whose columns are a prefix of another index"),
                              ("invalid", invalid, "left invalid (failed CREATE INDEX CONCURRENTLY)")]:
        r.samples.append(Sample(f"lookout_pg_{kind}_indexes", float(len(items)), lab, help=f"Indexes {what}."))
        r.samples.append(Sample(f"lookout_pg_{kind}_indexes_bytes", float(sum(i["size_bytes"] or 0 for i in items)),
                                lab, help=f"Total size of indexes {what}."))
    r.documents["pg_index_audit"] = {"unused": unused, "duplicate": duplicate, "invalid": invalid,
                                     "unused_min_bytes": ctx.options.get("unused_index_min_bytes")}
    return r


def sequences(rows: list[list[dict]], ctx: Ctx) -> Result:
    limit = float(ctx.options.get("sequence_threshold", 0.8))
    near = [s for s in jsonable(rows[0]) if (s["used_ratio"] or 0.0) >= limit]
    r = Result()
    r.samples.append(Sample("lookout_pg_sequences_near_exhaustion", float(len(near)), {"datname": ctx.datname},
                            help=f"Sequences that have used at least {limit:.0%} of their range."))
    for s in near:
        r.samples.append(Sample("lookout_pg_sequence_used_ratio", s["used_ratio"],
                                {"datname": ctx.datname, "schemaname": s["schemaname"], "sequencename": s["sequencename"]},
                                help="Share of the sequence's range already used (listed at or above the threshold)."))
    r.documents["pg_sequences"] = near
    return r
