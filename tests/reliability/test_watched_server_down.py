"""A watched PostgreSQL or Redis stops mid-collection and comes back."""
from __future__ import annotations

import itertools
import threading
import time

import pytest

from core.samples import Batch
from tests.reliability.conftest import TARGET_DOWN, slack_receiver, wait_until

INTERVAL = 2.0


def _config(tmp_path, pg, redis) -> str:
    return f"""
store: {{url: "sqlite:///{tmp_path / 'lookout.db'}"}}
targets:
  - {{name: db, kind: postgres, dsn: "{pg.dsn()}", databases: [postgres], interval: 2s, timeout: 1.5s}}
  - {{name: cache, kind: redis, url: "{redis.url()}", interval: 2s, timeout: 1.5s}}
  - {{name: self, kind: process, interval: 2s, timeout: 1.5s}}
""" + TARGET_DOWN + slack_receiver()


@pytest.mark.parametrize("which", ["db", "cache"])
def test_a_watched_server_that_stops_goes_down_next_collection_pages_once_recovers_and_resolves(
        which, tmp_path, embedded_pg, embedded_redis, webhook, make_runtime):
    rt = make_runtime(_config(tmp_path, embedded_pg, embedded_redis), env={"SLACK_URL": webhook.url})
    batches: list[Batch] = []
    lock = threading.Lock()

    def record(b: Batch) -> None:
        with lock:
            batches.append(b)

    rt.pipeline.add_listener(record)
    wait_until(lambda: {b.target for b in batches if b.up} >= {"db", "cache", "self"}, 20, "all targets up")
    server = embedded_pg if which == "db" else embedded_redis
    server.stop()
    stopped = time.time()
    wait_until(lambda: any(not b.up for b in batches if b.target == which), 4 * INTERVAL, f"{which} down")
    mine = [b for b in batches if b.target == which and b.started_at > stopped]
    assert mine and not mine[0].up  # the first collection after the stop says down
    wait_until(lambda: len(webhook.delivered) >= 1, 15, "the firing message")
    time.sleep(3 * INTERVAL)  # several more down collections and evaluations
    others = [b for b in batches if b.target != which and b.started_at > stopped]
    assert {b.target for b in others} == {"db", "cache", "self"} - {which}  # every other target collected
    assert all(b.up for b in others), [(b.target, b.error) for b in others if not b.up]

    server.start()
    wait_until(lambda: any(b.up for b in batches if b.target == which and b.started_at > time.time() - INTERVAL),
               30, f"{which} collected again")
    wait_until(lambda: len(webhook.delivered) >= 2, 20, "the resolved message")
    time.sleep(2)  # nothing else trails in
    texts = [m["text"] for m in webhook.delivered]
    # On failure, the longest gap between collections per target tells a starved target from a misjudged one.
    heads = [t.split("\n")[0] for t in texts]
    assert [h.split(" ")[0] for h in heads] == ["[FIRING]", "[RESOLVED]"], (texts, _gaps(batches, stopped))
    assert texts[0].split("\n")[0].endswith("(critical)")
    assert all(which in str(m) for m in webhook.delivered)
    assert len(webhook.requests) == 2


def _gaps(batches: list[Batch], since: float) -> dict[str, float]:
    """Per target, the longest time between two collection starts after ``since``."""
    starts: dict[str, list[float]] = {}
    for b in batches:
        if b.started_at > since:
            starts.setdefault(b.target, []).append(b.started_at)
    return {t: round(max((b - a for a, b in itertools.pairwise(sorted(v))), default=0.0), 2)
            for t, v in starts.items()}
