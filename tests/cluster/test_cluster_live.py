"""Three workers and two web replicas on one PostgreSQL store, as real processes.

The tests run in file order on one cluster: steady state first, then a worker
is killed, then the alert evaluator is killed during an incident.
"""
from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator

import psycopg
import pytest
import requests
import yaml

from tests.cluster.harness import (
    Cluster,
    metrics_targets,
    sample_times,
    serve_http,
    workers,
)
from tests.conftest import libpq_dsn

INTERVAL = 3.0
HTTP_TARGETS = 24
RULE = "cluster_test_high"


@pytest.fixture(scope="module")
def env(pg_server, redis_url, tmp_path_factory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("cluster")
    store_url = pg_server.create("lookout_cluster_store")
    watched = [pg_server.create("lookout_cluster_db") for _ in range(3)]
    control = libpq_dsn(watched[0])
    with psycopg.connect(control, autocommit=True) as conn:
        conn.execute("CREATE TABLE ctl (v integer NOT NULL)")
        conn.execute("INSERT INTO ctl VALUES (0)")
    app = serve_http()
    base = f"http://127.0.0.1:{app.server_address[1]}"
    targets: list[dict] = [{"name": f"web-{i}", "kind": "http", "url": f"{base}/ok/{i}", "interval": "3s"}
                           for i in range(HTTP_TARGETS)]
    targets += [{"name": f"pg-{i}", "kind": "postgres", "dsn": libpq_dsn(u), "interval": "3s",
                 "databases": [libpq_dsn(u).rsplit("/", 1)[1]], "families": ["database"]}
                for i, u in enumerate(watched)]
    targets.append({"name": "cache", "kind": "redis", "url": redis_url, "interval": "3s"})
    targets.append({"name": "control", "kind": "sql", "url": watched[0], "interval": "3s",
                    "queries": [{"name": "value", "sql": "SELECT v FROM ctl", "metric": "cluster_test_value",
                                 "help": "Value the test controls."}]})
    config = {
        "store": {"url": store_url},
        "targets": targets,
        "alerting": {
            "evaluation_interval": "2s",
            "rules": [{"name": RULE, "expr": {"metric": "cluster_test_value", "agg": "last", "window": "10s"},
                       "op": ">", "critical": 10, "for": "6s"}],
            "notifications": {"receivers": [{"name": "hook", "slack": {"webhook_url": f"{base}/hook",
                                                                       "min_interval": "0s"}}],
                              "default_receivers": ["hook"]},
        },
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    cluster = Cluster(path, tmp)
    try:
        ws = [cluster.worker(f"worker-{i}") for i in range(3)]
        webs = [cluster.web("web-a"), cluster.web("web-b", gunicorn=True)]
        for p in ws:
            cluster.wait_http(p, "/metrics")
        for p in webs:
            cluster.wait_http(p, "/api/health")
        time.sleep(3 * INTERVAL)  # every worker ticked, leases settled
        yield {"cluster": cluster, "dsn": libpq_dsn(store_url), "control": control, "hook": app,
               "targets": [t["name"] for t in targets], "workers": ws, "webs": webs}
    finally:
        cluster.stop_all()
        app.shutdown()
        app.server_close()
        for url in (store_url, *watched):
            pg_server.drop(url)


def _gaps(ts: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(ts)]


def _worker_id(env: dict, proc) -> str:
    return next(w for w in workers(env["dsn"]) if w.endswith(f":{proc.popen.pid}"))


def test_every_target_is_collected_exactly_once_per_interval(env: dict) -> None:
    start = time.time()
    time.sleep(5 * INTERVAL)
    times = sample_times(env["dsn"])
    for t in env["targets"]:
        window = [x for x in times.get(t, []) if x >= start]
        assert 4 <= len(window) <= 6, (t, window, env["cluster"].logs())
        assert all(0.5 * INTERVAL <= g <= 1.6 * INTERVAL for g in _gaps(window)), (t, _gaps(window))


def test_the_workers_share_the_targets_and_each_serves_only_its_own_metrics(env: dict) -> None:
    served = [metrics_targets(p.url) for p in env["workers"]]
    assert all(served), "every worker collects some targets"
    assert sum(len(s) for s in served) == len(env["targets"])  # disjoint ...
    assert set().union(*served) == set(env["targets"])  # ... and complete
    held = {w: set(info["targets"]) for w, info in workers(env["dsn"]).items()}
    assert sorted(len(h) for h in held.values()) == sorted(len(s) for s in served)


def test_two_web_replicas_serve_identical_answers(env: dict) -> None:
    a, b = env["webs"]
    now = time.time()
    params = {"name": "lookout_target_up", "start": now - 60, "end": now - 5, "points": 100}
    sa = requests.get(a.url + "/api/series", params=params, timeout=10)
    sb = requests.get(b.url + "/api/series", params=params, timeout=10)
    assert sa.status_code == 200 and sa.json() == sb.json()
    assert len(sa.json()["series"]) == len(env["targets"])
    ta = requests.get(a.url + "/api/targets", timeout=10).json()
    tb = requests.get(b.url + "/api/targets", timeout=10).json()
    assert ta == tb and len(ta["targets"]) == len(env["targets"])


def test_a_killed_workers_targets_resume_on_the_others_within_two_intervals(env: dict) -> None:
    leads = {w: info.get("leads", []) for w, info in workers(env["dsn"]).items()}
    victim = next(p for p in env["workers"] if not leads.get(_worker_id(env, p)))  # keep the evaluator
    orphans = set(workers(env["dsn"])[_worker_id(env, victim)]["targets"])
    assert orphans
    victim.kill()
    killed = time.time()
    time.sleep(3 * INTERVAL)
    times = sample_times(env["dsn"])
    for t in orphans:
        after = [x for x in times[t] if x > killed]
        assert after and after[0] - killed <= 2 * INTERVAL, (t, after[:1], killed)
    for t in env["targets"]:
        assert min(_gaps(times[t][2:])) >= 0.5 * INTERVAL, (t, _gaps(times[t]))
    alive = [p for p in env["workers"] if p is not victim]
    served = [metrics_targets(p.url) for p in alive]
    assert set().union(*served) == set(env["targets"]) and sum(map(len, served)) == len(env["targets"])


def _alert_state(dsn: str) -> str | None:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT state FROM alert_state WHERE rule = %s", (RULE,)).fetchone()
    return row[0] if row else None


def test_killing_the_evaluator_during_an_incident_still_sends_exactly_one_notification(env: dict) -> None:
    hook = env["hook"]
    with psycopg.connect(env["control"], autocommit=True) as conn:
        conn.execute("UPDATE ctl SET v = 100")
    deadline = time.time() + 6 * INTERVAL
    while _alert_state(env["dsn"]) != "pending":
        assert time.time() < deadline, (_alert_state(env["dsn"]), env["cluster"].logs())
        time.sleep(0.2)
    info = workers(env["dsn"])
    leader = next(w for w, i in info.items() if "evaluator" in i.get("leads", []))
    proc = next(p for p in env["workers"] if leader.endswith(f":{p.popen.pid}"))
    assert proc.popen.poll() is None
    proc.kill()
    deadline = time.time() + 8 * INTERVAL
    while not [p for p in hook.posts if RULE in p]:
        assert time.time() < deadline, (_alert_state(env["dsn"]), env["cluster"].logs())
        time.sleep(0.2)
    time.sleep(3 * INTERVAL)  # a duplicate would have come by now
    mine = [json.loads(p) for p in hook.posts if RULE in p]
    assert len(mine) == 1, mine
    live = {w: i for w, i in workers(env["dsn"]).items() if time.time() - i["heartbeat"] < INTERVAL}
    survivors = [w for w, i in live.items() if "evaluator" in i.get("leads", [])]
    assert len(survivors) == 1 and leader not in survivors
