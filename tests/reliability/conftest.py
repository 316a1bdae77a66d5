"""Real processes for the fault tests: embedded PostgreSQL and Redis we own, a runtime
(the Slack ``webhook`` fixture is tests/conftest.py's).

Never the system servers on 5432/6379: every server stopped here was started here.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from composition.config import parse_config
from composition.runtime import Runtime, build_runtime
from demo.embedded import EmbeddedPostgres, EmbeddedRedis
from tests.support import free_port


def wait_until(pred: Callable[[], object], timeout: float, what: str, every: float = 0.1) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(every)
    raise AssertionError(f"not within {timeout:g}s: {what}")


@pytest.fixture
def embedded_pg(server_dir: Path) -> Iterator[EmbeddedPostgres]:
    pg = EmbeddedPostgres(server_dir / "pg", free_port())
    pg.start()
    yield pg
    pg.stop()


@pytest.fixture
def embedded_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    r = EmbeddedRedis(tmp_path / "redis", free_port())
    r.start()
    yield r
    r.stop()


TARGET_DOWN = """
alerting:
  evaluation_interval: 1s
  rules:
    - name: target_down
      expr: {metric: lookout_target_up, agg: last, window: 30s}
      op: "<"
      critical: 1
      for: 0s
      annotations: {summary: "Target {labels[target]} is down"}
"""


def slack_receiver(url_env: str = "SLACK_URL") -> str:
    return f"""  notifications:
    receivers:
      - name: slack
        slack: {{webhook_url: "${{{url_env}}}", min_interval: 0s}}
    retry: {{initial_backoff: 0.2s, max_backoff: 1s}}
"""


@pytest.fixture
def make_runtime() -> Iterator[Callable[..., Runtime]]:
    """Build and start a real runtime from YAML; stopped at teardown."""
    started: list[Runtime] = []

    def make(text: str, env: dict[str, str] | None = None, start: bool = True, **kw) -> Runtime:
        cfg = parse_config(text, env={"LOOKOUT_SECRET_KEY": "k" * 32, **(env or {})})
        rt = build_runtime(cfg, **kw)
        started.append(rt)
        if start:
            rt.start()
        return rt

    yield make
    for rt in started:
        rt.stop()
