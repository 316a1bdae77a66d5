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
LOCK_MODES = ("accesssharelock", "rowsharelock", "rowexclusivelock", "shareupdateexclusivelock",
              "sharelock", "sharerowexclusivelock", "exclusivelock", "accessexclusivelock", "sireadlock")


def databases(rows: list[list[dict]], ctx: Ctx, at: int) -> list[str]:
    """The server's databases (the ``ALL_DATABASES`` rows at index ``at``) and the watched ones."""
    listed = [str(r["datname"]) for r in rows[at]] if len(rows) > at else []
    return sorted(set(listed) | set(ctx.watched))


def activity(rows: list[list[dict]], ctx: Ctx) -> Result:
    """pg_stat_activity_count and _max_tx_duration for every (database, state), 0 when nobody is
    in that state: as postgres_exporter, so a rule summing the family never sees a series vanish."""
    groups, oldest = rows[0], rows[1]
    count: dict[tuple, float] = defaultdict(float)
    max_tx: dict[tuple, float] = defaultdict(float)
    by_app: dict[tuple, float] = defaultdict(float)
    waiting: dict[tuple, float] = defaultdict(float)
    for dat in databases(rows, ctx, 2):
        for st in STATES:
            count[(dat, st)] = 0.0
            max_tx[(dat, st)] = 0.0
    max_query = idle_age = idle_count = 0.0
    for g in groups:
        n = num(g["count"]) or 0.0
        key = (g["datname"], g["state"])
        count[key] += n
        max_tx[key] = max(max_tx[key], num(g["max_tx_duration"]) or 0.0)
        by_app[(g["application_name"], g["state"])] += n
        if g["wait_event_type"]:
            waiting[(g["wait_event_type"], g["wait_event"])] += n
        max_query = max(max_query, num(g["max_query_duration"]) or 0.0)
        if g["state"].startswith("idle in transaction"):
            idle_count += n
            idle_age = max(idle_age, num(g["max_idle_in_tx"]) or 0.0)
    r = Result()
    for (dat, st), n in sorted(count.items()):
        lab = {"datname": dat, "state": st}
        r.samples.append(Sample("pg_stat_activity_count", n, lab, help="number of connections in this state"))
        r.samples.append(Sample("pg_stat_activity_max_tx_duration", max_tx[(dat, st)], lab,
                                help="max duration in seconds any active transaction has been running"))
    for (app, st), n in sorted(by_app.items()):
        r.samples.append(Sample("lookout_pg_stat_activity_by_application_count", n,
                                {"application_name": app, "state": st},
                                help="Client connections by application_name and state."))
    for (wtype, wevent), n in sorted(waiting.items()):
        r.samples.append(Sample("lookout_pg_stat_activity_waiting_count", n,
                                {"wait_event_type": wtype, "wait_event": wevent},
                                help="Client connections waiting, by wait event."))
    r.samples.append(Sample("lookout_pg_stat_activity_max_query_duration_seconds", max_query,
                            help="Age of the longest running active query."))
    r.samples.append(Sample("lookout_pg_idle_in_transaction_count", idle_count,
                            help="Client connections idle in a transaction."))
    r.samples.append(Sample("lookout_pg_idle_in_transaction_max_age_seconds", idle_age,
                            help="Longest time a connection has been idle in a transaction."))
    r.documents["pg_oldest_transactions"] = jsonable(oldest)
    return r


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
