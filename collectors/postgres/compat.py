"""Where Lookout's PostgreSQL families meet postgres_exporter's, in one place.

The side-by-side test (tests/exporter/peers/test_postgres_exporter.py) reads these tables, and
docs/exporter-compatibility.md states them: what the exporter serves that Lookout does not
(:data:`NOT_SERVED`), label sets that follow the newest release where the Debian build (0.11)
differs (:data:`NEWER_LABELS`), and the exporter-health families per target
(:func:`exporter_health`).
"""
from __future__ import annotations

from core.samples import Batch, Sample

# name (a glob for whole prefixes) -> why Lookout does not serve it.
NOT_SERVED: dict[str, str] = {
    "pg_scrape_collector_duration_seconds":
        "Lookout runs all due families of a connection as one statement, so there is no time per "
        "collector; lookout_collect_duration_seconds and pg_exporter_last_scrape_duration_seconds "
        "give the whole collection's",
    "postgres_exporter_build_info":
        "the build of the postgres_exporter binary; Lookout is not that binary",
    "go_*": "the Go runtime of the exporter's process; Lookout is a Python process",
    "promhttp_*": "the exporter's HTTP handler counters (Go client library)",
}

# Served for the whole process by the exporter module, not by a collector (not per target).
SERVED_ELSEWHERE: dict[str, str] = {
    "process_*": "exporter/: prometheus_client's process collector, for Lookout's own process",
}

# Families whose labels follow postgres_exporter 0.20 where 0.11 (Debian 12) has fewer; a sum by
# the older labels gives the older series.
NEWER_LABELS: dict[str, frozenset[str]] = {
    name: frozenset({"datname", "state", "usename", "application_name", "backend_type", "wait_event_type",
                     "wait_event"})
    for name in ("pg_stat_activity_count", "pg_stat_activity_max_tx_duration")
}

# Families that carry the exporter's `server` label ("host:port") in its newest release: its
# builtin pg_stat_database_conflicts map and pg_static. 0.11 puts it on every query-made family.
SERVER_LABELLED: tuple[str, ...] = ("pg_static", "pg_stat_database_conflicts_*")

# Settings the exporter's own client sets on its session (lib/pq: extra_float_digits=2): it
# reports its session's value; Lookout reports the server's.
EXPORTER_SESSION_SETTINGS: dict[str, str] = {
    "pg_settings_extra_float_digits": "lib/pq sets extra_float_digits=2 on the exporter's own session",
}

# postgres_exporter's collectors (0.20, enabled by default) and the Lookout family serving each.
COLLECTORS: dict[str, str] = {
    "database": "sizes", "locks": "locks", "replication": "replication", "replication_slots": "replication",
    "roles": "settings", "settings": "settings", "stat_activity": "activity", "stat_archiver": "wal",
    "stat_bgwriter": "bgwriter", "bgwriter": "bgwriter", "stat_database": "database",
    "stat_progress_vacuum": "activity", "stat_replication": "replication", "stat_user_tables": "tables",
    "statio_user_tables": "tables", "wal": "sizes",
}


def exporter_health(batch: Batch, scrapes: int) -> list[Sample]:
    """The exporter's own families for this target's collection (one collection is one scrape).

    ``pg_exporter_last_scrape_error`` is 1 when the server was unreachable or a family failed;
    ``pg_scrape_collector_success{collector}`` is 1 when the family serving that collector last
    succeeded (every database of a per-database family).
    """
    ok: dict[str, float] = {}
    for s in (*batch.samples, *batch.carried):
        if s.name == "lookout_pg_family_up":
            fam = s.labels.get("family", "")
            ok[fam] = min(ok.get(fam, 1.0), float(s.value or 0.0))
    failed = not batch.up or any(v < 1.0 for v in ok.values())
    out = [
        Sample("pg_exporter_last_scrape_duration_seconds", batch.duration,
               help="Duration of the last scrape of metrics from PostgreSQL."),
        Sample("pg_exporter_last_scrape_error", 1.0 if failed else 0.0,
               help="Whether the last scrape of metrics from PostgreSQL resulted in an error "
                    "(1 for error, 0 for success)."),
        Sample("pg_exporter_scrapes_total", float(scrapes), kind="counter",
               help="Total number of times PostgreSQL was scraped for metrics."),
    ]
    for collector, family in sorted(COLLECTORS.items()):
        if family in ok or not batch.up:
            out.append(Sample("pg_scrape_collector_success", ok.get(family, 0.0), {"collector": collector},
                              help="postgres_exporter: Whether a collector succeeded."))
    return out
