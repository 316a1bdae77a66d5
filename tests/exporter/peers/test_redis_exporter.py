"""Lookout's Redis families beside the real redis_exporter (Debian build), on one idle Redis.

The exporter and Lookout's collector watch a redis-server of this test's own (no other
client), are scraped over /metrics, and compared: every family the exporter serves must
be served by Lookout with the same type and label names, and gauges must agree within
tolerance. The name set is redis_exporter 1.88's (the newest release); the Debian build
is 1.45, so the few differences between the two are listed below with the reason.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping

import pytest
from flask import Flask

import exporter.views
from collectors.redis import RedisCollector, RedisTarget
from exporter.snapshot import Snapshot
from tests.collectors.redis.conftest import Server, start_server

from .support import Family, binary, families, free_port, running, scrape

EXPORTER = "prometheus-redis-exporter"

# Families the exporter serves that Lookout does not, and why.
NOT_SERVED: dict[str, str] = {
    "redis_exporter_build_info": "describes the redis_exporter binary's build; Lookout is not that binary",
    "redis_target_scrape_request_errors_total": "counts bad requests to the exporter's /scrape endpoint "
                                                "(multi-target mode); Lookout has no such endpoint",
    "process_virtual_memory_max_bytes": "client_golang's; prometheus_client's ProcessCollector has no such family",
}
NOT_SERVED_PREFIXES = {"go_": "the exporter's Go runtime; Lookout is a Python process"}

# Where the Debian build (1.45) and the newest release (1.88, whose names Lookout serves) differ.
NEWER_THAN_DEBIAN: dict[str, str] = {
    "redis_instance_info": "1.88 adds the master_replid label",
    "redis_expired_time_cap_reached_total": "1.88 types it counter (metricMapCounters); 1.45 said gauge",
}

# Gauges that differ between two processes or two moments by nature, and why.
NOT_COMPARED: dict[str, str] = {
    "redis_exporter_last_scrape_duration_seconds": "each side's own collection time",
    "redis_exporter_last_scrape_connect_time_seconds": "each side's own connect time",
    "redis_latency_spike_last": "a timestamp of the server's own spikes",
    "redis_start_time_seconds": "compared to the second below",
    "redis_uptime_in_seconds": "compared to the second below",
}
NOT_COMPARED_PREFIXES = {
    "process_": "each side's own process",
    "redis_memory_used": "allocations move with every client's buffers between the two scrapes",
    "redis_allocator_": "allocations move with every client's buffers between the two scrapes",
    "redis_mem_": "allocations move with every client's buffers between the two scrapes",
    "redis_client_recent_max_": "the largest buffer of the last seconds: each side's own commands",
}
REL_TOLERANCE = 0.10  # for the gauges compared: within 10 % (or 1 for small counts)
SECONDS_TOLERANCE = 2.0


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("redis-peer"))
    yield srv
    srv.stop()


@dataclasses.dataclass
class Sides:
    theirs: dict[str, Family]
    ours: dict[str, Family]


def lookout_scrape(server: Server) -> dict[str, Family]:
    """Collect as Lookout does (the second poll has the interval values), then GET /metrics."""
    collector = RedisCollector(RedisTarget(name="cache", url=server.url, interval=15.0))
    snapshot = Snapshot()
    try:
        for _ in range(2):
            batch = collector.run()
            assert batch.up, batch.error
    finally:
        collector.close()  # so the exporter sees no connection of Lookout's, as it would alone
    # The exporter counts its own connection in redis_connected_clients; Lookout's kept
    # connection is its own in the same way: one more poll, alone on the server.
    batch = collector.run()
    collector.close()
    assert batch.up, batch.error
    snapshot.update("cache", [dataclasses.replace(s, labels={**s.labels, "target": "cache"}) for s in batch.samples])
    app = Flask("lookout")
    exporter.views.init_app(app, snapshot)
    body = app.test_client().get("/metrics").get_data(as_text=True)
    return families(body, drop_labels=("target", "kind"))


@pytest.fixture(scope="module", params=[[], ["-include-system-metrics"]], ids=["default", "system-metrics"])
def sides(request, server: Server) -> Sides:
    server.client.connection_pool.disconnect()  # the fixture's own client: the server is left idle
    port = free_port()
    argv = [binary(EXPORTER), f"-redis.addr=redis://127.0.0.1:{server.port}",
            f"-web.listen-address=127.0.0.1:{port}", *request.param]
    with running(argv, port) as url:
        scrape(url)  # the first scrape sets the client name and the exporter's own counters
        theirs = scrape(url)
    return Sides(theirs, lookout_scrape(server))


def not_served_reason(name: str) -> str | None:
    return NOT_SERVED.get(name) or next((r for p, r in NOT_SERVED_PREFIXES.items() if name.startswith(p)), None)


def compared(name: str) -> bool:
    return name not in NOT_COMPARED and not any(name.startswith(p) for p in NOT_COMPARED_PREFIXES)


def close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= max(1.0, REL_TOLERANCE * max(abs(a), abs(b)))


def differences(theirs: Mapping[str, Family], ours: Mapping[str, Family]) -> list[str]:
    """Every way Lookout's families fall short of the exporter's; [] when they match."""
    problems = []
    for name, fam in sorted(theirs.items()):
        if not_served_reason(name):
            continue
        mine = ours.get(name)
        if mine is None:
            problems.append(f"{name}: missing")
            continue
        if name in NEWER_THAN_DEBIAN:
            continue
        if mine.type != fam.type:
            problems.append(f"{name}: type {mine.type}, the exporter's is {fam.type}")
        if mine.labels != fam.labels:
            problems.append(f"{name}: labels {sorted(mine.labels)}, the exporter's are {sorted(fam.labels)}")
        if fam.type != "gauge" or not compared(name):
            continue
        their_values = {lab: v for _n, lab, v in fam.samples}
        for lab, v in their_values.items():
            got = [w for _n, l2, w in mine.samples if l2 == lab]
            if not got:
                problems.append(f"{name}{dict(lab)}: missing series")
            elif not close(got[0], v):
                problems.append(f"{name}{dict(lab)}: {got[0]:g}, the exporter says {v:g}")
    return problems


def test_lookout_serves_every_family_of_the_exporter_with_its_type_labels_and_idle_values(sides):
    assert differences(sides.theirs, sides.ours) == []


def test_uptime_and_start_time_agree_to_the_second(sides):
    for name in ("redis_uptime_in_seconds", "redis_start_time_seconds"):
        [theirs] = sides.theirs[name].values()
        [ours] = sides.ours[name].values()
        assert abs(theirs - ours) <= SECONDS_TOLERANCE, name


def test_connected_clients_counts_the_collectors_own_connection_as_the_exporter_does(sides):
    assert sides.theirs["redis_connected_clients"].values() == [1.0]
    assert sides.ours["redis_connected_clients"].values() == [1.0]


def test_the_latency_percentiles_are_a_summary_on_both_sides(sides):
    for side in (sides.theirs, sides.ours):
        assert side["redis_latency_percentiles_usec"].type == "summary"
        assert side["redis_latency_percentiles_usec"].values(cmd="info", quantile="99.9")
        assert side["redis_latency_percentiles_usec_count"].values(cmd="info")[0] >= 1


def test_the_health_families_say_the_last_scrape_succeeded(sides):
    for side in (sides.theirs, sides.ours):
        assert side["redis_exporter_last_scrape_error"].values(err="") == [0.0]
        assert side["redis_up"].values() == [1.0]
        assert side["redis_exporter_scrapes_total"].values()[0] >= 1


def test_the_lists_of_exceptions_name_families_the_exporter_really_serves(sides):
    served = set(sides.theirs)
    assert set(NOT_SERVED) <= served
    assert set(NEWER_THAN_DEBIAN) <= served


# -- the comparison must be able to fail ------------------------------------------------

def test_the_comparison_catches_a_missing_family(sides):
    ours = {k: v for k, v in sides.ours.items() if k != "redis_db_keys"}

    assert "redis_db_keys: missing" in differences(sides.theirs, ours)


def test_the_comparison_catches_a_type_a_label_and_a_value_difference(sides):
    ours = dict(sides.ours)
    fam = ours["redis_connected_clients"]
    ours["redis_connected_clients"] = dataclasses.replace(
        fam, samples=tuple((n, lab, v + 5) for n, lab, v in fam.samples))
    ours["redis_config_maxclients"] = dataclasses.replace(ours["redis_config_maxclients"], type="untyped")
    ours["redis_db_keys"] = dataclasses.replace(ours["redis_db_keys"], labels=frozenset({"database"}))

    found = differences(sides.theirs, ours)

    assert "redis_connected_clients{}: 6, the exporter says 1" in found
    assert "redis_config_maxclients: type untyped, the exporter's is gauge" in found
    assert "redis_db_keys: labels ['database'], the exporter's are ['db']" in found


def test_lookouts_text_is_what_the_shared_parser_reads(sides):
    # Guards the helper: a family parsed from a literal body keeps type and labels.
    parsed = families("# TYPE redis_up gauge\nredis_up{target=\"x\"} 1\n", drop_labels=("target",))

    assert parsed["redis_up"] == Family("redis_up", "gauge", frozenset(), (("redis_up", (), 1.0),))
