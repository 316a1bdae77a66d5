"""Sessions: pg_stat_activity (connections, oldest query and transaction,
idle in transaction) and pg_locks (counts by mode, blocked sessions and the
chain of pids blocking them, kept as a document rather than labels).
"""
from __future__ import annotations

from collections import defaultdict

from collectors.postgres.rows import Ctx, Result, jsonable, num
from core.samples import Sample

STATES = ("active", "idle", "idle in transaction", "idle in transaction (aborted)",
          "fastpath function call", "disabled")
# The labels of postgres_exporter's (0.20) pg_stat_activity_count and _max_tx_duration.
ACTIVITY_LABELS = ("datname", "state", "usename", "application_name", "backend_type", "wait_event_type", "wait_event")
LOCK_MODES = ("accesssharelock", "rowsharelock", "rowexclusivelock", "shareupdateexclusivelock",
              "sharelock", "sharerowexclusivelock", "exclusivelock", "accessexclusivelock", "sireadlock")


def databases(rows: list[list[dict]], ctx: Ctx, at: int) -> list[str]:
    """The server's databases (the ``ALL_DATABASES`` rows at index ``at``) and the watched ones."""
    listed = [str(r["datname"]) for r in rows[at]] if len(rows) > at else []
    return sorted(set(listed) | set(ctx.watched))


def activity(rows: list[list[dict]], ctx: Ctx) -> Result:
    """pg_stat_activity_count and _max_tx_duration as postgres_exporter serves them: one series per
    group of its labels, and 0 for every (database, state) nobody is in, so a rule summing the family
    never sees a series vanish. Lookout's own session is counted, as the exporter's own is."""
    groups, oldest = rows[0], rows[1]
    count: dict[tuple, float] = {}
    max_tx: dict[tuple, float] = {}
    by_app: dict[tuple, float] = defaultdict(float)
    waiting: dict[tuple, float] = defaultdict(float)
    dbs = databases(rows, ctx, 2)
    busy = set()
    max_query = idle_age = idle_count = 0.0
    for g in groups:
        n = num(g["count"]) or 0.0
        client = g.get("backend_type", "client backend") == "client backend"
        if client:
            by_app[(g["application_name"], g["state"])] += n
            if g["wait_event_type"]:
                waiting[(g["wait_event_type"], g["wait_event"])] += n
            max_query = max(max_query, num(g["max_query_duration"]) or 0.0)
            if g["state"].startswith("idle in transaction"):
                idle_count += n
                idle_age = max(idle_age, num(g["max_idle_in_tx"]) or 0.0)
        if g["state"] not in STATES or (dbs and g["datname"] not in dbs):
            continue  # the exporter joins on its list of states and on pg_database
        key = tuple(str(g.get(k) or "") for k in ACTIVITY_LABELS)
        count[key] = count.get(key, 0.0) + n
        max_tx[key] = max(max_tx.get(key, 0.0), num(g["max_tx_duration"]) or 0.0)
        busy.add((g["datname"], g["state"]))
    for dat in dbs:
        for st in STATES:
            if (dat, st) not in busy:
                key = (dat, st) + ("",) * (len(ACTIVITY_LABELS) - 2)
                count[key] = max_tx[key] = 0.0
    r = Result()
    for key, n in sorted(count.items()):
        lab = dict(zip(ACTIVITY_LABELS, key, strict=True))
        r.samples.append(Sample("pg_stat_activity_count", n, lab, help="number of connections in this state"))
        r.samples.append(Sample("pg_stat_activity_max_tx_duration", max_tx[key], lab,
                                help="max duration in seconds any active transaction has been running"))
    for (app, st), n in sorted(by_app.items()):
        r.samples.append(Sample("lookout_pg_stat_activity_by_application_sessions", n,
                                {"application_name": app, "state": st},
                                help="Client connections by application_name and state."))
    for (wtype, wevent), n in sorted(waiting.items()):
        r.samples.append(Sample("lookout_pg_stat_activity_waiting_sessions", n,
                                {"wait_event_type": wtype, "wait_event": wevent},
                                help="Client connections waiting, by wait event."))
    r.samples.append(Sample("lookout_pg_stat_activity_max_query_duration_seconds", max_query,
                            help="Age of the longest running active query."))
    r.samples.append(Sample("lookout_pg_idle_in_transaction_sessions", idle_count,
                            help="Client connections idle in a transaction."))
    r.samples.append(Sample("lookout_pg_idle_in_transaction_max_age_seconds", idle_age,
                            help="Longest time a connection has been idle in a transaction."))
    if len(rows) > 3:
        r.samples += vacuum_progress(rows[3])
    r.documents["pg_oldest_transactions"] = jsonable(oldest)
    return r


VACUUM_PHASES = ("initializing", "scanning heap", "vacuuming indexes", "vacuuming heap",
                 "cleaning up indexes", "truncating heap", "performing final cleanup")
_VACUUM = [  # (column, series, help) of postgres_exporter's stat_progress_vacuum
    ("heap_blks_total", "heap_blks_total", "Total number of heap blocks in the table being vacuumed."),
    ("heap_blks_scanned", "heap_blks_scanned", "Number of heap blocks scanned so far."),
    ("heap_blks_vacuumed", "heap_blks_vacuumed", "Number of heap blocks vacuumed so far."),
    ("index_vacuum_count", "index_vacuums", "Number of completed index vacuum cycles."),
    ("max_dead_tuples", "max_dead_tuples",
     "Maximum number of dead tuples that can be stored before cleanup is performed."),
    ("num_dead_tuples", "num_dead_tuples", "Current number of dead tuples found so far."),
]


def vacuum_progress(rows: list[dict]) -> list[Sample]:
    """One set of series per running VACUUM (none on an idle server), as the exporter."""
    out = []
    for row in rows:
        lab = {"datname": str(row.get("datname") or ""), "relname": str(row.get("relname") or "")}
        phase = int(num(row.get("phase")) or 0)
        for i, name in enumerate(VACUUM_PHASES):
            out.append(Sample("pg_stat_progress_vacuum_phase", 1.0 if i == phase else 0.0, {**lab, "phase": name},
                              help="Current vacuum phase (1 = active, 0 = inactive). Label 'phase' is human-readable."))
        for col, name, help_ in _VACUUM:
            out.append(Sample(f"pg_stat_progress_vacuum_{name}", num(row.get(col)) or 0.0, lab, help=help_))
    return out


def locks(rows: list[list[dict]], ctx: Ctx) -> Result:
    counts, sessions = rows[0], rows[1]
    per: dict[tuple, float] = {(d, m): 0.0 for d in databases(rows, ctx, 2) for m in LOCK_MODES}
    for row in counts:
        key = (row["datname"], row["mode"])
        per[key] = per.get(key, 0.0) + (num(row["count"]) or 0.0)
    r = Result()
    for (dat, mode), n in sorted(per.items()):
        r.samples.append(Sample("pg_locks_count", n, {"datname": dat, "mode": mode}, help="Number of locks"))
    doc = blocking_chains(sessions)
    r.samples.append(Sample("lookout_pg_blocked_sessions", float(len(doc["blocked"])),
                            help="Sessions waiting for a lock held by another session."))
    r.samples.append(Sample("lookout_pg_blocked_max_wait_seconds",
                            max((b["query_age"] or 0.0 for b in doc["blocked"]), default=0.0),
                            help="Longest time a blocked session has been waiting."))
    r.documents["pg_blocking"] = doc
    return r


def blocking_chains(sessions: list[dict]) -> dict:
    """Blocked sessions, each with its chain of blockers up to a root that waits on no one.

    ``{"blocked": [{pid, blocked_by, chain: [pid, blocker, ..., root], ...}],
    "roots": [{pid, blocks: n, ...}]}``
    """
    info = {int(s["pid"]): jsonable(s) for s in sessions}
    edges = {pid: [int(p) for p in (s.get("blocked_by") or [])] for pid, s in info.items()}
    blocked = []
    for pid, blockers in sorted(edges.items()):
        if not blockers:
            continue
        chain, seen, cur = [pid], {pid}, pid
        while edges.get(cur):
            nxt = edges[cur][0]
            if nxt in seen:  # a deadlock cycle: the server resolves it, we just stop
                chain.append(nxt)
                break
            chain.append(nxt)
            seen.add(nxt)
            cur = nxt
        blocked.append({**info[pid], "blocked_by": blockers, "chain": chain})
    root_ids = {b["chain"][-1] for b in blocked}
    roots = [{**info.get(p, {"pid": p}), "blocks": sum(1 for b in blocked if b["chain"][-1] == p)}
             for p in sorted(root_ids)]
    return {"blocked": blocked, "roots": roots}
