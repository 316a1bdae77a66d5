"""The alerts page's silence form completes alert names, targets and the labels of the rules'
metrics from the configuration and the metric catalogue."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from composition.config import parse_config
from dashboards.pages import alerts

CONFIG = """targets:
  - {name: pools, kind: pool, max_connections: 100,
     apps: [{name: api, url: 'http://127.0.0.1:9/p', fields: {in_use: a}}]}
alerting:
  rules:
    - {name: pool_waiting, expr: {metric: lookout_pool_waiting_clients}, warning: 0}
"""


def options(runtime: Any) -> dict[str, str]:
    return {o.value: o.label for o in alerts.matcher_options(runtime)}


def test_the_matcher_field_offers_rules_with_their_metric_targets_and_the_metrics_labels():
    runtime = cast(Any, SimpleNamespace(config=parse_config(CONFIG, env={})))
    got = options(runtime)
    assert got["alertname=pool_waiting"] == "lookout_pool_waiting_clients"
    assert got["target=pools"] == "pool"
    assert "pool=" in got  # the label lookout_pool_waiting_clients carries
    assert "alertname=promise_cache_hit_rate" in got  # the promises' alerts too
    found = dict(components(alerts.layout(runtime)))
    assert found["sil-matchers"].list == "sil-matcher-names"
    assert len(found["sil-matcher-names"].children) == len(got)


def components(node: Any):
    """(id, component) of every component with an id in a layout tree."""
    if getattr(node, "id", None) is not None:
        yield node.id, node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        yield from components(child)
