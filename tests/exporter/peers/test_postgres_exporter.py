"""postgres_exporter (the Debian build) beside Lookout's postgres collector on one test database.

Lookout collects once and closes its connections; then the exporter starts and is scraped, so
neither sees the other's sessions or locks. Both look at a fresh database of their own on the
shared test server (other tests' sessions live in other databases), and the exporter with
``--auto-discover-databases`` is limited to it, so it never holds a connection another test's
DROP DATABASE would trip on. :func:`differences` lists everything that breaks a dashboard or rule
written for the exporter; the last tests prove it catches each kind of break.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import math
import time
from collections.abc import Iterator, Mapping

import psycopg
import pytest
import requests

from collectors.postgres import PostgresCollector, PostgresTarget
from collectors.postgres.compat import (
    EXPORTER_SESSION_SETTINGS,
    NEWER_LABELS,
    NOT_SERVED,
    SERVED_ELSEWHERE,
    SERVER_LABELLED,
)
from exporter.snapshot import Snapshot
from tests.exporter.peers.support import Family, binary, families, free_port, running
from tests.pg import libpq_dsn

EXPORTER = "prometheus-postgres-exporter"


@dataclasses.dataclass
class Side:
    exporter: dict[str, Family]
    lookout: dict[str, Family]
    kinds: dict[str, str]  # Lookout's sample kind by sample name
    datname: str
    exporter_own: int = 0  # the exporter's connections to the database beyond Lookout's one
    apart: float = 0.0  # seconds between Lookout's collection and the exporter's scrape
    shop_locks: int = 0  # the locks the shop's open transaction holds in the database


def _parse(text: str, drop_labels: tuple[str, ...] = ()) -> dict[str, Family]:
    """support.families, keyed by the sample names the text really has.

    prometheus_client's parser names every counter sample ``..._total``; postgres_exporter's
    counters (``pg_stat_database_blks_hit``) have none, and PromQL queries the name as written.
    """
    raw = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    out = {}
    for key, fam in families(text, drop_labels).items():
        if key not in raw and key.endswith("_total") and key[:-6] in raw:
            key = key[:-6]
            fam = dataclasses.replace(fam, name=key, samples=tuple((key, lab, v) for _n, lab, v in fam.samples))
        out[key] = fam
    return out


def _matches(name: str, table: Mapping[str, str] | tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in table)


@pytest.fixture(scope="module", params=["default", "auto-discover"])
def side(request, pg_server) -> Iterator[Side]:
    url = pg_server.create("lookout_pgexp")
    dsn = libpq_dsn(url)
    datname = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    others: list[psycopg.Connection] = []
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE orders (id int PRIMARY KEY, total numeric)")
            conn.execute("INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 500) g")
        # The shop's sessions, seen by both: one idle, one idle in a transaction holding its locks.
        others.append(psycopg.connect(dsn, autocommit=True, application_name="shop"))
        others.append(psycopg.connect(dsn, application_name="shop"))
        others[1].execute("SELECT count(*) FROM orders WHERE id < 10")
        # A replication slot (no WAL reserved, so it holds nothing back), for the slot families.
        others[0].execute("SELECT pg_create_physical_replication_slot(%s)", (datname,))
        held = others[0].execute("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
                                 " WHERE d.datname = current_database() AND l.pid = %s",
                                 (others[1].info.backend_pid,)).fetchone()

        target = PostgresTarget(name="pg", kind="postgres", dsn=dsn, databases=[datname], interval=15, timeout=10)
        coll = PostgresCollector(target)
        try:
            batch = coll.run()
        finally:
            coll.close()
        collected = time.time()
        assert batch.up, batch.error
        snap = Snapshot(process=False)
        snap.update("pg", batch.samples)
        lookout = _parse(snap.body().decode(), drop_labels=("target",))
        kinds = {s.name: s.kind for s in batch.samples}

        info = psycopg.conninfo.conninfo_to_dict(dsn)
        uri = (f"postgresql://{info.get('user', 'postgres')}@{info.get('host', '127.0.0.1')}:"
               f"{info.get('port', 5432)}/{datname}?sslmode=disable")
        port = free_port()
        argv = [binary(EXPORTER), f"--web.listen-address=127.0.0.1:{port}"]
        if request.param == "auto-discover":
            argv += ["--auto-discover-databases", f"--include-databases={datname}"]
        with running(argv, port, env={"DATA_SOURCE_NAME": uri}) as metrics:
            exporter = _parse(requests.get(metrics, timeout=30).text)
            apart = time.time() - collected
        # In this fresh database there are the shop's sessions and the watcher's: Lookout's one,
        # the exporter's several (database/sql keeps a pool).
        backends = sum(exporter["pg_stat_database_numbackends"].values(datname=datname))
        yield Side(exporter, lookout, kinds, datname, int(backends) - len(others) - 1, apart,
                   int(held[0]) if held else 0)
    finally:
        if others:
            others[0].execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                              " WHERE slot_name = %s", (datname,))
        for conn in others:
            conn.close()
        pg_server.drop(url, owner=request.node.nodeid)


def _labels(name: str, fam: Family) -> frozenset[str]:
    if _matches(name, SERVER_LABELLED):
        return fam.labels
    return fam.labels - {"server"}  # 0.11 labels every query-made family with it; 0.20 does not


# The watcher's own connections are active while it reads and idle in its pool otherwise: the
# exporter keeps more of them (and, with --auto-discover-databases, may read on two at once).
_OWN = {"active": "active or idle", "idle": "active or idle"}


def _by(fam: Family, keep: tuple[str, ...], datname: str, agg=sum,
        rename: Mapping[str, str] | None = None) -> dict[tuple[str, ...], float]:
    groups: dict[tuple[str, ...], list[float]] = {}
    for _n, lab, v in fam.samples:
        d = dict(lab)
        if d.get("datname", datname) == datname:
            key = tuple((rename or {}).get(d.get(k, ""), d.get(k, "")) for k in keep)
            groups.setdefault(key, []).append(v)
    return {k: agg(v) for k, v in groups.items()}


# family -> (labels to group by, aggregate, relative tolerance, absolute tolerance) on an idle database
_VALUES: dict[str, tuple[tuple[str, ...], object, float, float]] = {
    "pg_up": ((), sum, 0, 0),
    "pg_replication_is_replica": ((), sum, 0, 0),
    "pg_exporter_last_scrape_error": ((), sum, 0, 0),
    "pg_stat_activity_count": (("state",), sum, 0, 0),
    "pg_stat_activity_max_tx_duration": (("state",), max, 0, 1.0),
    "pg_locks_count": (("mode",), sum, 0, 0),
    "pg_stat_database_numbackends": ((), sum, 0, 0),
    "pg_database_size_bytes": ((), sum, 0.05, 0),
    "pg_stat_archiver_archived_count": ((), sum, 0, 0),
    "pg_stat_archiver_failed_count": ((), sum, 0, 0),
    "pg_stat_database_deadlocks": ((), sum, 0, 0),
    "pg_stat_database_conflicts": ((), sum, 0, 0),
    **{f"pg_stat_database_conflicts_confl_{c}": ((), sum, 0, 0)
       for c in ("tablespace", "lock", "snapshot", "bufferpin", "deadlock")},
}


def differences(side: Side) -> list[str]:
    """What a dashboard or rule written for the exporter would see differently on Lookout."""
    out: list[str] = []
    for name, fam in sorted(side.exporter.items()):
        if _matches(name, NOT_SERVED) or _matches(name, SERVED_ELSEWHERE):
            continue
        if all(math.isnan(v) for _n, _l, v in fam.samples):
            continue  # the exporter's NaN is Lookout's "no value" (a NULL column): no series
        mine = side.lookout.get(name)
        if mine is None:
            out.append(f"{name}: served by the exporter, missing in Lookout")
            continue
        want = NEWER_LABELS.get(name, _labels(name, fam))
        if name in NEWER_LABELS and not _labels(name, fam) <= want:
            out.append(f"{name}: the exporter's labels {sorted(_labels(name, fam))} are not in the newer set")
        if mine.labels != want:
            out.append(f"{name}: labels {sorted(mine.labels)} in Lookout, {sorted(want)} expected")
        if fam.type in ("gauge", "counter") and side.kinds.get(name) != fam.type:
            out.append(f"{name}: {side.kinds.get(name)} in Lookout, {fam.type} in the exporter")
        if name.startswith("pg_settings_") and name not in EXPORTER_SESSION_SETTINGS:
            theirs, ours = fam.values(), mine.values()
            if theirs != ours:
                out.append(f"{name}: {ours} in Lookout, {theirs} in the exporter (the server's value)")
        if name in _VALUES:
            keep, agg, rel, absolute = _VALUES[name]
            rename = _OWN if name == "pg_stat_activity_count" else None
            theirs_by = _by(fam, keep, side.datname, agg, rename)
            ours_by = _by(mine, keep, side.datname, agg, rename)
            for key in sorted(set(theirs_by) | set(ours_by)):
                a, b = theirs_by.get(key), ours_by.get(key)
                if a is not None and (name == "pg_stat_database_numbackends" or key == ("active or idle",)):
                    a -= side.exporter_own  # the exporter's extra connections, not Lookout's
                if name == "pg_stat_activity_max_tx_duration":
                    absolute = side.apart + 1.0  # the exporter looked this much later
                if a is None or b is None or abs(a - b) > max(absolute, rel * abs(a)):
                    where = dict(zip(keep, key, strict=True))
                    out.append(f"{name}{where} in {side.datname}: {b} in Lookout, {a} in the exporter")
    static = {k: v for k, v in (side.exporter["pg_static"].samples[0][1]) if k in ("version", "short_version")}
    ours_static = {k: v for k, v in (side.lookout["pg_static"].samples[0][1]) if k in ("version", "short_version")}
    if static != ours_static:
        out.append(f"pg_static: {ours_static} in Lookout, {static} in the exporter")
    return out


def test_lookout_serves_every_family_of_the_exporter_with_its_labels_types_and_idle_values(side):
    assert differences(side) == []


def test_the_settings_are_the_server_s_not_lookout_s_session_s(side):
    timeout = side.lookout["pg_settings_statement_timeout_seconds"].values()
    assert timeout == side.exporter["pg_settings_statement_timeout_seconds"].values() == [0.0]
    assert side.lookout["pg_settings_default_transaction_read_only"].values() == [0.0]
    assert len([n for n in side.lookout if n.startswith("pg_settings_")]) >= 240


def test_lookout_s_own_session_is_counted_once_as_active_and_its_batch_adds_one_lock_to_the_shop_s(side):
    active = _by(side.lookout["pg_stat_activity_count"], ("state", "application_name"), side.datname)
    assert active[("active", "lookout")] == 1
    locks = _by(side.lookout["pg_locks_count"], ("mode",), side.datname)
    assert side.shop_locks >= 1 and sum(locks.values()) == side.shop_locks + 1


def test_a_replication_slot_is_served_under_the_current_and_the_older_names(side):
    current = side.exporter["pg_replication_slots_active"].values(slot_name=side.datname)
    assert current == side.lookout["pg_replication_slots_active"].values(slot_name=side.datname) == [0.0]
    assert side.lookout["pg_replication_slot_slot_is_active"].values(slot_name=side.datname) == [0.0]


def _without(side: Side, name: str) -> Side:
    return dataclasses.replace(side, lookout={k: v for k, v in side.lookout.items() if k != name})


def test_the_comparison_catches_a_dropped_family(side):
    missing = "pg_settings_max_locks_per_transaction: served by the exporter, missing in Lookout"
    assert missing in differences(_without(side, "pg_settings_max_locks_per_transaction"))
    assert missing not in differences(side)


def test_the_comparison_catches_a_label_a_type_and_a_value_difference(side):
    fam = side.lookout["pg_locks_count"]
    relabelled = dataclasses.replace(fam, labels=fam.labels | {"relname"})
    broken = {**side.lookout, "pg_locks_count": relabelled}
    assert any(d.startswith("pg_locks_count: labels") for d in differences(dataclasses.replace(side, lookout=broken)))
    kinds = {**side.kinds, "pg_stat_database_blks_hit": "gauge"}
    assert any(d.startswith("pg_stat_database_blks_hit: gauge in Lookout")
               for d in differences(dataclasses.replace(side, kinds=kinds)))
    doubled = dataclasses.replace(fam, samples=tuple((n, lab, v * 8 + 1) for n, lab, v in fam.samples))
    broken = {**side.lookout, "pg_locks_count": doubled}
    assert any(d.startswith("pg_locks_count{'mode': 'accesssharelock'}")
               for d in differences(dataclasses.replace(side, lookout=broken)))
