from __future__ import annotations

import random
import shutil
import socket
import time

import redis

from .conftest import SHARED_DB, Server, collector, start_server, value, values


def test_it_reports_redis_exporter_names_from_the_shared_redis_7(redis_url):
    client = redis.Redis.from_url(redis_url.rsplit("/", 1)[0] + f"/{SHARED_DB}")
    client.set("lookout:redis-test", "x", ex=60)
    try:
        batch = collector(redis_url, db=SHARED_DB).run()
    finally:
        client.delete("lookout:redis-test")
    assert batch.up, batch.error
    assert value(batch, "redis_up") == 1.0
    assert value(batch, "redis_db_keys", db=f"db{SHARED_DB}") >= 1
    assert value(batch, "redis_db_keys_expiring", db=f"db{SHARED_DB}") >= 1
    assert value(batch, "redis_memory_used_bytes") > 0
    assert value(batch, "redis_connected_clients") >= 1
    assert value(batch, "redis_commands_total", cmd="info") >= 1
    info = [s for s in batch.samples if s.name == "redis_instance_info"][0]
    assert info.labels["redis_version"].startswith("7.") and info.labels["role"] == "master"
    kinds = {s.name: s.kind for s in batch.samples}
    assert kinds["redis_keyspace_hits_total"] == "counter" and kinds["redis_uptime_in_seconds"] == "gauge"


def test_the_configured_database_index_is_the_one_selected(redis_url):
    c = collector(redis_url, db=SHARED_DB)
    assert c.run().up
    assert c.client.connection_pool.get_connection().db == SHARED_DB


def test_the_hit_ratio_is_hits_over_lookups_of_the_interval(own_server):
    c, r = collector(own_server.url), own_server.client
    r.set("present", "1")
    r.get("present")  # lookups before the first poll must not count
    assert c.run().up
    for _ in range(30):
        r.get("present")
    for _ in range(10):
        r.get("absent")
    batch = c.run()
    assert value(batch, "lookout_redis_keyspace_hit_ratio") == 30 / (30 + 10)
    assert batch.documents["redis_derived"]["hit_ratio"]["hits"] == 30


def test_no_lookups_in_the_interval_gives_no_ratio_and_says_why(own_server):
    c = collector(own_server.url)
    c.run()
    batch = c.run()
    assert values(batch, "lookout_redis_keyspace_hit_ratio") == {}
    assert batch.documents["redis_derived"]["hit_ratio"]["reason"] == "no keyspace lookups since the previous poll"


def test_the_first_poll_gives_no_rates_and_says_why(own_server):
    batch = collector(own_server.url).run()
    assert values(batch, "lookout_redis_ops_per_second") == {}
    assert "first poll" in batch.documents["redis_derived"]["ops_per_second"]["reason"]


def test_evictions_under_a_small_maxmemory_are_counted_and_rated(redis62):
    r = redis62.client
    old = r.config_get("maxmemory")["maxmemory"], r.config_get("maxmemory-policy")["maxmemory-policy"]
    c = collector(redis62.url)
    try:
        # 1 MB, or a little above what the server already holds (client buffers
        # of earlier tests), so there is always something left to evict.
        limit = max(1024 * 1024, int(r.info("memory")["used_memory"]) + 512 * 1024)
        r.config_set("maxmemory", str(limit))
        r.config_set("maxmemory-policy", "allkeys-lru")
        first = c.run()
        for i in range(400):
            r.set(f"evict:{i}", "x" * 10_000)
        batch = c.run()
    finally:
        r.config_set("maxmemory", old[0])
        r.config_set("maxmemory-policy", old[1])
        r.flushdb()
    evicted = value(batch, "redis_evicted_keys_total") - value(first, "redis_evicted_keys_total")
    assert evicted > 0
    assert value(batch, "lookout_redis_evictions_per_second") > 0
    assert value(batch, "redis_memory_max_bytes") == limit
    assert 0 < value(batch, "lookout_redis_memory_used_ratio") <= 1.5


def test_without_maxmemory_there_is_no_memory_ratio_and_the_reason_is_given(redis7):
    batch = collector(redis7.url).run()
    assert value(batch, "redis_memory_max_bytes") == 0
    assert values(batch, "lookout_redis_memory_used_ratio") == {}
    assert "maxmemory is 0" in batch.documents["redis_derived"]["memory_used_ratio"]["reason"]


def test_clients_are_measured_against_maxclients(own_server):
    batch = collector(own_server.url).run()
    assert value(batch, "lookout_redis_clients_used_ratio") == (
        value(batch, "redis_connected_clients") / value(batch, "redis_config_maxclients"))


def test_a_slow_command_shows_in_the_slowlog_with_its_duration(own_server):
    own_server.client.execute_command("DEBUG", "SLEEP", "0.05")
    batch = collector(own_server.url).run()
    assert value(batch, "redis_slowlog_length") >= 1
    assert value(batch, "redis_last_slow_execution_duration_seconds") >= 0.04
    assert batch.documents["redis_slowlog_last"]["command"] == "DEBUG"


def test_redis_7_gives_interval_latency_percentiles_from_latency_histogram(redis7):
    c = collector(redis7.url)
    c.run()
    for _ in range(50):
        redis7.client.get("k")
    redis7.client.execute_command("DEBUG", "SLEEP", "0.02")
    batch = c.run()
    assert batch.documents["redis_latency_histogram"]["available"] is True
    p50 = value(batch, "lookout_redis_command_latency_seconds", quantile="0.5")
    p99 = value(batch, "lookout_redis_command_latency_seconds", quantile="0.99")
    assert 0 < p50 <= p99
    assert value(batch, "lookout_redis_command_latency_seconds_count") >= 50
    assert value(batch, "lookout_redis_command_latency_seconds_sum") >= 0.02  # the DEBUG SLEEP
    assert {s.kind for s in batch.samples if s.name.startswith("lookout_redis_command_latency")} == {"summary"}
    assert value(batch, "redis_latency_percentiles_usec", cmd="get", quantile="99") > 0
    assert value(batch, "redis_latency_percentiles_usec_count", cmd="get") == 50


def test_redis_6_2_says_latency_histogram_is_missing_and_stays_up(redis62):
    c = collector(redis62.url)
    c.run()
    batch = c.run()
    assert batch.up, batch.error
    doc = batch.documents["redis_latency_histogram"]
    assert doc["available"] is False and "needs Redis 7.0+" in doc["reason"] and "6.2" in doc["reason"]
    assert values(batch, "lookout_redis_command_latency_seconds") == {}


def test_a_stopped_server_gives_redis_up_0_with_the_error_and_recovers(tmp_path):
    server = start_server(tmp_path)
    c = collector(server.url)
    try:
        assert c.run().up
        server.stop()
        down = c.run()
        assert not down.up and "Connection refused" in down.error
        assert value(down, "redis_up") == 0.0 and value(down, "lookout_target_up", target="cache", kind="redis") == 0
        server.start()
        again = c.run()
        assert again.up, again.error
        assert value(again, "redis_up") == 1.0
    finally:
        c.close()
        if server.proc.poll() is None:
            server.stop()


def test_the_password_never_appears_in_the_error():
    batch = collector("redis://lookout:s3cret-pw@127.0.0.1:1/0").run()
    assert not batch.up and "s3cret-pw" not in batch.error and "***" in batch.error


def test_a_replica_reports_its_link_and_the_master_its_lag(redis7, tmp_path):
    replica = start_server(tmp_path, "--replicaof", "127.0.0.1", str(redis7.port))
    try:
        deadline = time.monotonic() + 10
        while (replica.client.info("replication").get("master_link_status") != "up"
               or "online" not in str(redis7.client.info("replication").get("slave0"))):
            assert time.monotonic() < deadline, "replica did not connect"
            time.sleep(0.05)
        rep = collector(replica.url).run()
        master = {"master_host": "127.0.0.1", "master_port": str(redis7.port)}
        assert value(rep, "redis_master_link_up", **master) == 1.0
        assert value(rep, "redis_slave_info", **master, read_only="1") == 1.0
        assert rep.documents["redis_replication"]["role"] == "slave"
        assert rep.documents["redis_replication"]["link_status"] == "up"
        mas = collector(redis7.url).run()
        assert mas.documents["redis_replication"]["replicas"][0]["state"] == "online"
        lags = values(mas, "redis_connected_slave_lag_seconds")
        assert len(lags) == 1 and list(lags.values())[0] >= 0
        assert len(values(mas, "lookout_redis_replica_lag_bytes")) == 1
    finally:
        replica.stop()


def test_each_run_reports_the_exporters_health_families_and_the_error_without_the_password(tmp_path):
    server = start_server(tmp_path)
    c = collector(server.url, password="s3cret-pw")
    try:
        failed = c.run()  # the server has no password yet: AUTH fails
        server.client.config_set("requirepass", "s3cret-pw")
        ok = c.run()
    finally:
        c.close()
        server.stop()
    [(labels, v)] = values(failed, "redis_exporter_last_scrape_error").items()
    err = dict(labels)["err"]
    assert v == 1.0 and err and "s3cret-pw" not in err and err == failed.error
    assert values(ok, "redis_exporter_last_scrape_error") == {(("err", ""),): 0.0}
    assert value(ok, "redis_exporter_scrapes_total") == 2.0
    assert value(ok, "redis_exporter_scrape_duration_seconds_count") == 2.0
    assert value(ok, "redis_exporter_scrape_duration_seconds_sum") >= value(
        ok, "redis_exporter_last_scrape_duration_seconds") > 0
    assert value(ok, "redis_exporter_last_scrape_connect_time_seconds") > 0
    assert value(ok, "redis_last_key_groups_scrape_duration_milliseconds") == 0.0


def test_settings_and_host_memory_come_under_the_exporters_names(own_server):
    batch = collector(own_server.url).run()
    assert value(batch, "redis_config_maxclients") == float(own_server.client.config_get("maxclients")["maxclients"])
    assert value(batch, "redis_config_client_output_buffer_limit_bytes", **{"class": "pubsub", "limit": "hard"}) > 0
    assert value(batch, "redis_config_client_output_buffer_limit_overcome_seconds",
                 **{"class": "pubsub", "limit": "soft"}) >= 0
    assert value(batch, "redis_total_system_memory_bytes") > 0
    assert value(batch, "redis_hz") > 0


def cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is free too; Redis refuses ports over 55535."""
    for port in random.sample(range(20000, 55535), 200):
        with socket.socket() as a, socket.socket() as b:
            try:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
            return port
    raise AssertionError("no free port pair for a cluster node")


def start_cluster_node(tmp_path) -> Server:
    port = cluster_port()
    args = (shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(tmp_path), "--cluster-enabled", "yes",
            "--cluster-config-file", str(tmp_path / "nodes.conf"))
    server = Server(f"redis://127.0.0.1:{port}/0", redis.Redis(port=port, decode_responses=True), port, None, args)
    server.start()
    return server


def test_a_cluster_node_reports_its_cluster_state_and_slots(tmp_path):
    server = start_cluster_node(tmp_path)
    c = collector(server.url)
    try:
        down = c.run()  # no slots assigned yet: the cluster is down
        server.client.execute_command("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        deadline = time.monotonic() + 10
        while server.client.execute_command("CLUSTER", "INFO").find("cluster_state:ok") < 0:
            assert time.monotonic() < deadline, "cluster did not become ok"
            time.sleep(0.05)
        up = c.run()
    finally:
        c.close()
        server.stop()
    assert down.up and value(down, "redis_cluster_state") == 0.0
    assert value(up, "redis_cluster_state") == 1.0
    assert value(up, "redis_cluster_slots_assigned") == 16384 and value(up, "redis_cluster_slots_ok") == 16384
    assert value(up, "redis_cluster_slots_fail") == 0 and value(up, "redis_cluster_slots_pfail") == 0
    assert value(up, "redis_cluster_known_nodes") == 1 and value(up, "redis_cluster_enabled") == 1
    assert set(values(up, "redis_db_keys")) == {(("db", "db0"),)}  # a cluster has one database
    assert up.documents["redis_cluster"] == {"available": True, "state": "ok"}
