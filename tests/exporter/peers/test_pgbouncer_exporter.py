"""pgbouncer_exporter beside Lookout's pool collector, on one real PgBouncer.

Debian's ``prometheus-pgbouncer-exporter`` (1.7) is Christopher Baines' Python exporter, not
prometheus-community's Go ``pgbouncer_exporter`` whose names dashboards query; the two agree on
the SHOW LISTS gauges and name the rest differently. So two checks:

- the Debian build runs beside Lookout: each family it serves is served by Lookout under the same
  name (same type, labels and, on an idle pool, value), or under the community name given in
  ``DEBIAN_AS_COMMUNITY`` (same value), or is in ``NOT_SERVED`` with the reason;
- the community exporter has no Debian package and needs a Go toolchain, so its families are the
  table ``COMMUNITY`` below, transcribed from its v0.12.1 collector.go: Lookout must serve each one
  whose PgBouncer column this PgBouncer has, with that type and those label names.

The Debian build dies at start on PgBouncer 1.8 and later (``KeyError: 'total_requests'``: 1.8
replaced that column of SHOW STATS by ``total_query_count``). It runs here as shipped but for that
one column removed from its table (``SHIM``).
"""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask

from collectors.pool import PoolCollector, PoolTarget
from core.samples import Sample
from exporter.snapshot import Snapshot
from exporter.views import init_app
from tests import pgbouncer

from .support import Family, binary, families, free_port, running, scrape

# Debian name -> (the community family Lookout serves for it, the factor from Debian's unit to it).
DEBIAN_AS_COMMUNITY: dict[str, tuple[str, float]] = {
    "pgbouncer_active_clients": ("pgbouncer_pools_client_active_connections", 1.0),
    "pgbouncer_waiting_clients": ("pgbouncer_pools_client_waiting_connections", 1.0),
    "pgbouncer_pool_size": ("pgbouncer_databases_pool_size", 1.0),
    "pgbouncer_reserve_pool": ("pgbouncer_databases_reserve_pool", 1.0),
    "pgbouncer_received_bytes_total": ("pgbouncer_stats_received_bytes_total", 1.0),
    "pgbouncer_sent_bytes_total": ("pgbouncer_stats_sent_bytes_total", 1.0),
    "pgbouncer_query_microseconds_total": ("pgbouncer_stats_queries_duration_seconds_total", 1e-6),
    "pgbouncer_dns_names": ("pgbouncer_cached_dns_names", 1.0),
    "pgbouncer_dns_zones": ("pgbouncer_cached_dns_zones", 1.0),
    "pgbouncer_dns_queries": ("pgbouncer_in_flight_dns_queries", 1.0),
}
# Families of the Debian build that Lookout does not serve (a trailing * is a prefix), with the reason.
NOT_SERVED: dict[str, str] = {
    "pgbouncer_dns_pending": "SHOW LISTS dns_pending: the community exporter does not export it",
    "python_*": "the exporter's own Python runtime (prometheus_client's default collectors)",
    "process_*": "the exporter's own process; Lookout's process_* describe Lookout's process, "
                 "served by the exporter module, not by the pool collector",
}

DB = ("name", "host", "port", "database", "force_user", "pool_mode")
POOL = ("database", "user")
STATS = ("database",)
# prometheus-community/pgbouncer_exporter v0.12.1: family -> (type, label names, SHOW command, columns
# of which one must exist on this PgBouncer for the exporter to serve it, or () for always).
COMMUNITY: dict[str, tuple[str, tuple[str, ...], str, tuple[str, ...]]] = {
    "pgbouncer_up": ("gauge", (), "", ()),
    "pgbouncer_version_info": ("gauge", ("version",), "VERSION", ()),
    **{f"pgbouncer_{m}": ("gauge", (), "LISTS", (row,)) for row, m in [
        ("databases", "databases"), ("users", "users"), ("pools", "pools"), ("free_clients", "free_clients"),
        ("used_clients", "used_clients"), ("login_clients", "login_clients"), ("free_servers", "free_servers"),
        ("used_servers", "used_servers"), ("dns_names", "cached_dns_names"), ("dns_zones", "cached_dns_zones"),
        ("dns_queries", "in_flight_dns_queries")]},
    "pgbouncer_config_max_client_connections": ("gauge", (), "CONFIG", ("max_client_conn",)),
    "pgbouncer_config_max_user_connections": ("gauge", (), "CONFIG", ("max_user_connections",)),
    "pgbouncer_client_connections": ("gauge", ("database", "user", "application_name", "state"), "CLIENTS", ()),
    **{f"pgbouncer_databases_{m}": ("gauge", DB, "DATABASES", cols) for m, cols in [
        ("pool_size", ("pool_size",)), ("reserve_pool", ("reserve_pool", "reserve_pool_size")),
        ("max_connections", ("max_connections",)), ("current_connections", ("current_connections",)),
        ("paused", ("paused",)), ("disabled", ("disabled",))]},
    **{f"pgbouncer_pools_{m}": ("gauge", POOL, "POOLS", (col,)) for col, m in [
        ("cl_active", "client_active_connections"), ("cl_active_cancel_req", "client_active_cancel_connections"),
        ("cl_waiting", "client_waiting_connections"), ("cl_waiting_cancel_req", "client_waiting_cancel_connections"),
        ("sv_active", "server_active_connections"), ("sv_active_cancel", "server_active_cancel_connections"),
        ("sv_being_canceled", "server_being_canceled_connections"), ("sv_idle", "server_idle_connections"),
        ("sv_used", "server_used_connections"), ("sv_tested", "server_testing_connections"),
        ("sv_login", "server_login_connections"), ("maxwait", "client_maxwait_seconds")]},
    **{f"pgbouncer_stats_totals_{m}": ("counter", STATS, "STATS_TOTALS", (col,)) for col, m in [
        ("query_count", "queries_pooled_total"), ("query_time", "queries_duration_seconds_total"),
        ("bytes_received", "received_bytes_total"), ("requests", "queries_total"),
        ("bytes_sent", "sent_bytes_total"), ("wait_time", "client_wait_seconds_total"),
        ("xact_count", "sql_transactions_pooled_total"), ("xact_time", "server_in_transaction_seconds_total"),
        ("client_parse_count", "client_parses_total"), ("server_parse_count", "server_parses_total"),
        ("bind_count", "binds_total"), ("server_assignment_count", "server_assignments_total")]},
}
# v0.4 to v0.10 read SHOW STATS and named the same totals pgbouncer_stats_*: dashboards still query them.
OLDER = {f"pgbouncer_stats_{name.removeprefix('pgbouncer_stats_totals_')}": spec for name, spec in COMMUNITY.items()
         if name.startswith("pgbouncer_stats_totals_") and spec[3][0] in
         ("query_count", "query_time", "bytes_received", "requests", "bytes_sent", "wait_time", "xact_count",
          "xact_time")}

SHIM = """
import sys
from prometheus_pgbouncer_exporter import cli, collectors
collectors.StatsCollector.metrics = {
    k: v for k, v in collectors.StatsCollector.metrics.items() if k != "total_requests"}
sys.argv[0] = "prometheus-pgbouncer-exporter"
cli.main()
"""


@pytest.fixture(scope="module")
def bouncer(pg_admin_dsn) -> Iterator[dict]:
    """A PgBouncer of its own (named entries only, so each alias has one real database), idle after warm-up."""
    info = psycopg.conninfo.conninfo_to_dict(pg_admin_dsn)
    host, port = info.get("host", "127.0.0.1"), info.get("port", 5432)
    with pgbouncer.running(f"shop = host={host} port={port} dbname=postgres pool_size=4 reserve_pool=1",
                           "max_client_conn = 57", prefix="lookout-pgb-peer-") as listen:
        admin = f"postgresql://postgres@127.0.0.1:{listen}/pgbouncer"
        # Traffic, then idle: every counter has a value and none moves while the test compares.
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{listen}/shop", autocommit=True,
                             prepare_threshold=None) as conn:
            for _ in range(5):
                conn.execute("SELECT pg_sleep(0.01)")
        yield {"port": listen, "admin": admin}


@pytest.fixture(scope="module")
def debian(bouncer) -> Iterator[str]:
    exe = binary("prometheus-pgbouncer-exporter")
    with open(exe) as f:
        python = f.readline().removeprefix("#!").split()[0]  # the interpreter Debian's script names
    port = free_port()
    argv = [python, "-c", SHIM, "--host", "127.0.0.1", "--port", str(port), "--pgbouncer-host", "127.0.0.1",
            "--pgbouncer-port", str(bouncer["port"]), "--pgbouncer-user", "postgres"]
    with running(argv, port) as url:
        yield url


@pytest.fixture(scope="module")
def lookout(bouncer) -> Iterator[PoolCollector]:
    c = PoolCollector(PoolTarget(name="pgbouncer", kind="pool", interval=15, timeout=10,
                                 pgbouncer={"dsn": bouncer["admin"]}))
    assert c.run().up  # connects: from now on both exporters hold one console connection each
    yield c
    c.close()


def lookout_metrics(collector: PoolCollector) -> dict[str, Family]:
    """One collection, labelled as the pipeline labels it, scraped from Lookout's /metrics view."""
    batch = collector.run()
    assert batch.up, batch.error
    snapshot = Snapshot()
    snapshot.update(batch.target, [Sample(s.name, s.value, {**s.labels, "target": batch.target}, s.kind, s.help)
                                   for s in batch.samples])
    app = Flask("lookout")
    init_app(app, snapshot)
    body = app.test_client().get("/metrics", headers={"Accept": "text/plain;version=0.0.4"}).get_data(as_text=True)
    return {n: f for n, f in families(body, drop_labels=("target",)).items() if n.startswith("pgbouncer_")}


@pytest.fixture(scope="module")
def side_by_side(debian, lookout) -> tuple[dict[str, Family], dict[str, Family], dict[str, Family]]:
    """(Debian before, Lookout, Debian after): Lookout's values must lie within the two Debian scrapes."""
    before = scrape(debian)
    ours = lookout_metrics(lookout)
    after = scrape(debian)
    return before, ours, after


def not_served(name: str) -> bool:
    return name in NOT_SERVED or any(k.endswith("*") and name.startswith(k[:-1]) for k in NOT_SERVED)


def test_every_debian_family_is_served_or_listed_with_a_reason(side_by_side):
    before, ours, _after = side_by_side

    missing = [n for n in before if n not in ours and n not in DEBIAN_AS_COMMUNITY and not not_served(n)]
    assert missing == []
    assert [d for n, (d, _f) in DEBIAN_AS_COMMUNITY.items() if n in before and d not in ours] == []
    # The lists name only what the Debian build really serves: a stale entry would hide nothing.
    assert [n for n in [*DEBIAN_AS_COMMUNITY, *NOT_SERVED]
            if not any(m == n or (n.endswith("*") and m.startswith(n[:-1])) for m in before)] == []


def test_families_of_the_same_name_have_the_debian_type_and_label_names(side_by_side):
    before, ours, _after = side_by_side
    shared = sorted(set(before) & set(ours))

    assert len(shared) >= 8  # the SHOW LISTS gauges both exporters name alike
    assert [(n, before[n].type, ours[n].type) for n in shared if before[n].type != ours[n].type] == []
    assert [(n, before[n].labels, ours[n].labels) for n in shared if before[n].labels != ours[n].labels] == []


def _by_labels(fam: Family, names: frozenset[str]) -> dict[tuple, list[float]]:
    out: dict[tuple, list[float]] = {}
    for _n, lab, v in fam.samples:
        out.setdefault(tuple(kv for kv in lab if kv[0] in names), []).append(v)
    return out


def test_values_agree_with_the_debian_exporter_on_an_idle_pool(side_by_side):
    before, ours, after = side_by_side
    compared, wrong = 0, []
    for name, fam in before.items():
        if not_served(name):
            continue
        ours_name, factor = DEBIAN_AS_COMMUNITY.get(name, (name, 1.0))
        theirs_before, theirs_after = _by_labels(fam, fam.labels), _by_labels(after[name], fam.labels)
        mine = _by_labels(ours[ours_name], fam.labels)  # Debian's labels are a subset of the community's
        for key, (v0,) in theirs_before.items():
            lo, hi = sorted((v0 * factor, theirs_after[key][0] * factor))
            got = mine.get(key, [])
            if len(got) != 1 or not lo - 1e-9 <= got[0] <= hi + 1e-9:
                wrong.append((name, ours_name, key, (lo, hi), got))
            compared += 1

    assert wrong == []
    assert compared >= 20  # lists, the two pools, the database, its stats


def _columns(admin: str) -> dict[str, set[str]]:
    """What this PgBouncer prints: column names per SHOW command; row names for LISTS and CONFIG."""
    out = {}
    with psycopg.connect(admin, autocommit=True, prepare_threshold=None) as conn, conn.cursor() as cur:
        for what in ("VERSION", "CLIENTS", "DATABASES", "POOLS", "STATS_TOTALS"):
            cur.execute(f"SHOW {what}")
            out[what] = {c.name for c in cur.description or []}
        for what in ("LISTS", "CONFIG"):
            cur.execute(f"SHOW {what}")
            out[what] = {r[0] for r in cur.fetchall()}
    return out


def test_every_community_family_is_served_with_its_type_and_label_names(bouncer, lookout):
    ours = lookout_metrics(lookout)
    have = _columns(bouncer["admin"])
    expected = {n: spec for n, spec in {**COMMUNITY, **OLDER}.items()
                if not spec[3] or set(spec[3]) & have[spec[2]]}

    assert sorted(set(expected) - set(ours)) == []
    assert [(n, t, ours[n].type) for n, (t, *_r) in expected.items() if ours[n].type != t] == []
    assert [(n, set(lab), ours[n].labels) for n, (_t, lab, *_r) in expected.items()
            if ours[n].labels != frozenset(lab)] == []
    # And nothing under pgbouncer_ that neither generation of the exporter names.
    assert sorted(set(ours) - set(COMMUNITY) - set(OLDER)) == []


def test_the_served_values_are_pgbouncers_own(bouncer, lookout):
    ours = lookout_metrics(lookout)
    assert ours["pgbouncer_config_max_client_connections"].values() == [57.0]
    assert ours["pgbouncer_databases_pool_size"].values(name="shop", database="postgres") == [4.0]
    assert ours["pgbouncer_databases_reserve_pool"].values(name="shop") == [1.0]
    assert ours["pgbouncer_stats_totals_queries_pooled_total"].values(database="shop") == [5.0]
    assert ours["pgbouncer_stats_queries_pooled_total"].values(database="shop") == [5.0]
    assert ours["pgbouncer_pools_server_idle_connections"].values(database="shop", user="postgres") == [1.0]
    assert ours["pgbouncer_up"].values() == [1.0]


def test_lookouts_pgbouncer_families_pass_promtools_lint(lookout):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not installed (apt-get install prometheus)")
    batch = lookout.run()
    snapshot = Snapshot()
    snapshot.update(batch.target, batch.samples)

    result = subprocess.run([promtool, "check", "metrics"], input=snapshot.body(False), capture_output=True,
                            timeout=30)

    assert (result.returncode, result.stderr.decode()) == (0, "")
