from __future__ import annotations

from pathlib import Path

import pytest

from collectors.redis import RedisTarget
from collectors.redis.derived import Poll, derive
from collectors.redis.latency import merged_delta, parse_histogram, percentiles
from collectors.redis.parse import parse_info
from collectors.redis.tables import info_samples
from composition.config import parse_config
from core.errors import ConfigError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "redis"


def samples_of(name: str) -> dict[tuple, float]:
    text = (FIXTURES / name).read_text(encoding="utf-8", errors="replace")
    out: dict[tuple, float] = {}
    for s in info_samples(parse_info(text), databases=2, now=10_000.0):
        out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_a_dump_with_unknown_fields_and_garbage_parses_what_it_can():
    got = samples_of("info_garbage.txt")
    assert got[("redis_connected_clients", ())] == 12
    assert got[("redis_memory_used_rss_bytes", ())] == 1048576
    assert got[("redis_keyspace_hits_total", ())] == 100
    assert got[("redis_evicted_keys_total", ())] == 500
    assert got[("redis_commands_total", (("cmd", "get"),))] == 10
    assert got[("redis_errors_total", (("err", "ERR"),))] == 3
    assert got[("redis_db_keys", (("db", "db0"),))] == 7
    assert got[("redis_db_avg_ttl_seconds", (("db", "db0"),))] == 5
    assert got[("redis_db_keys", (("db", "db1"),))] == 0  # unparseable: padded like an empty db
    assert got[("redis_connected_slave_lag_seconds",
                (("slave_ip", "10.0.0.2"), ("slave_port", "6380"), ("slave_state", "online")))] == 1
    assert got[("redis_start_time_seconds", ())] == 10_000 - 3600


def test_values_that_are_not_numbers_are_skipped():
    names = {name for name, _ in samples_of("info_garbage.txt")}
    assert "redis_memory_used_bytes" not in names  # used_memory:abc
    assert "redis_memory_max_bytes" not in names  # maxmemory: (empty)
    assert "redis_keyspace_misses_total" not in names  # NaN
    assert not any("mystery" in n or "brand_new" in n for n in names)


def test_a_latency_line_with_a_percentile_that_is_not_a_number_is_skipped_whole():
    # redis_exporter drops the command's summary when one percentile does not parse.
    got = samples_of("info_garbage.txt")
    assert not [name for name, _ in got if name.startswith("redis_latency_percentiles_usec")]


def test_latency_percentiles_are_a_summary_with_the_commandstats_sum_and_count():
    info = parse_info("# Commandstats\r\ncmdstat_get:calls=21,usec=175,usec_per_call=8.33\r\n"
                      "# Latencystats\r\nlatency_percentiles_usec_get:p50=1.003,p99=2.007,p99.9=4.015\r\n"
                      "latency_percentiles_usec_set:p50=1.003\r\n")  # set: no commandstats, no summary
    got = {(s.name, tuple(sorted(s.labels.items()))): (s.value, s.kind)
           for s in info_samples(info, databases=0, now=0.0) if s.name.startswith("redis_latency")}
    assert got == {
        ("redis_latency_percentiles_usec", (("cmd", "get"), ("quantile", "50"))): (1.003, "summary"),
        ("redis_latency_percentiles_usec", (("cmd", "get"), ("quantile", "99"))): (2.007, "summary"),
        ("redis_latency_percentiles_usec", (("cmd", "get"), ("quantile", "99.9"))): (4.015, "summary"),
        ("redis_latency_percentiles_usec_sum", (("cmd", "get"),)): (175.0, "summary"),
        ("redis_latency_percentiles_usec_count", (("cmd", "get"),)): (21.0, "summary"),
    }


def test_cluster_info_fields_are_gauges_under_the_exporters_names():
    from collectors.redis.tables import cluster_samples

    got = {s.name: s.value for s in cluster_samples({"cluster_state": "fail", "cluster_slots_pfail": "2",
                                                      "cluster_stats_messages_sent": "7",
                                                      "total_cluster_links_buffer_limit_exceeded": "0"})}
    assert got == {"redis_cluster_state": 0.0, "redis_cluster_slots_pfail": 2.0,
                   "redis_cluster_messages_sent_total": 7.0}


@pytest.mark.parametrize("dump", ["info_all_6.2.txt", "info_all_7.0.txt"])
def test_recorded_dumps_of_both_versions_give_the_core_families(dump):
    names = {name for name, _ in samples_of(dump)}
    for core in ("redis_uptime_in_seconds", "redis_memory_used_bytes", "redis_memory_max_bytes",
                 "redis_keyspace_hits_total", "redis_keyspace_misses_total", "redis_evicted_keys_total",
                 "redis_connected_clients", "redis_commands_total", "redis_commands_duration_seconds_total",
                 "redis_db_keys", "redis_instance_info", "redis_rdb_last_bgsave_status"):
        assert core in names, core


def test_a_counter_reset_gives_no_hit_ratio_and_says_why():
    before = Poll(1.0, 100, 50, 1000, 0, 1, 0, 1, 10)
    after = Poll(2.0, 5, 1, 10, 0, 1, 0, 1, 10)
    samples, doc = derive(before, after)
    assert "lookout_redis_keyspace_hit_ratio" not in {s.name for s in samples}
    assert "counters went back" in doc["hit_ratio"]["reason"]


def test_histogram_percentiles_come_from_the_difference_of_two_polls():
    before = parse_histogram(["get", ["calls", 100, "histogram_usec", [1, 100]]])
    now = parse_histogram(["get", ["calls", 110, "histogram_usec", [1, 100, 1024, 110]],
                           "set", ["calls", 10, "histogram_usec", [2, 10]]])
    delta = merged_delta(now, before)  # 10 new gets at <=1024us, 10 sets at <=2us
    assert delta[1024] == 20 and delta[2] == 10
    p = percentiles(delta)
    assert p[0.5] == 2e-6 and p[0.99] == 1024e-6


def test_the_password_comes_from_the_environment():
    cfg = parse_config("targets:\n  - name: cache\n    kind: redis\n    url: rediss://cache:6380/0\n"
                       "    password: ${REDIS_PW}\n", env={"REDIS_PW": "hunter2"})
    target = cfg.targets[0]
    assert isinstance(target, RedisTarget) and target.password == "hunter2"
    assert target.socket_timeout < target.timeout and target.socket_connect_timeout < target.timeout


def test_a_socket_timeout_as_long_as_the_target_timeout_is_refused():
    with pytest.raises(ConfigError, match="socket_timeout"):
        parse_config("targets:\n  - name: cache\n    kind: redis\n    interval: 10s\n    timeout: 2s\n"
                     "    socket_timeout: 2s\n", env={})


def test_a_renamed_config_command_leaves_maxclients_and_maxmemory_to_info():
    from redis import ResponseError

    from collectors.redis.settings import CONFIG_KEYS, config_samples

    refused = dict.fromkeys(CONFIG_KEYS, ResponseError("unknown command 'CONFIG'"))
    got = {s.name: s.value for s in config_samples(refused, {"maxclients": 10000.0, "maxmemory": 0.0})}
    assert got == {"redis_config_maxclients": 10000.0, "redis_config_maxmemory": 0.0}
