"""The overview's target cards say what /api/targets says: a target whose probes fail is failing."""
from __future__ import annotations

import time

import pytest

from composition.config import parse_config
from composition.runtime import build_runtime
from core.samples import Batch, Sample
from dashboards.fetch import Fetch
from dashboards.pages.overview import health_grid
from dashboards.timerange import parse_search
from store import Store

CONFIG = """\
targets:
  - {name: shop-api, kind: http, base_url: "http://127.0.0.1:1", probes: [{name: checkout, url: /checkout}]}
"""


@pytest.fixture
def runtime(tmp_path):
    cfg = parse_config(CONFIG, env={}, base_dir=tmp_path)
    rt = build_runtime(cfg, role="web", store=Store(f"sqlite:///{tmp_path / 'l.db'}"))
    yield rt
    rt.store.close()


def card_text(rt) -> str:
    grid = health_grid(Fetch(rt, parse_search("?range=1h", time.time())), [])
    return " ".join(str(x) for x in _strings(grid))


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, (list, tuple)):
        for n in node:
            yield from _strings(n)
    elif hasattr(node, "children"):
        yield from _strings(node.children)


def poll(rt, ok: bool) -> None:
    probes = {"checkout": {"ok": ok, "reason": None if ok else "timeout", "error": None if ok else "no response in 2s"}}
    rt.pipeline.handle(Batch(target="shop-api", kind="http", started_at=time.time(), documents={"probes": probes},
                             samples=[Sample("lookout_http_probe_success", 1.0 if ok else 0.0, {"probe": "checkout"})]),
                       interval=15)


def test_a_target_whose_probe_fails_is_a_failing_card_with_the_probe_and_reason(runtime):
    poll(runtime, ok=False)
    text = card_text(runtime)
    assert "FAILING" in text and "checkout (timeout): no response in 2s" in text


def test_a_target_whose_probes_pass_is_up(runtime):
    poll(runtime, ok=True)
    text = card_text(runtime)
    assert "FAILING" not in text and " up " in f" {text} "
