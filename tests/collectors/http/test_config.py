"""How an http target reads in YAML."""
from __future__ import annotations

import pytest

from composition.config import parse_config
from core.errors import ConfigError


def test_a_single_probe_can_be_written_on_the_target_itself():
    cfg = parse_config("""
targets:
  - name: homepage
    kind: http
    interval: 30s
    url: https://shop.example/
    expect_status: [200, 3xx]
    timeout: 5s
""", env={})
    t = cfg.targets[0]
    assert [p.name for p in t.probes] == ["homepage"]
    assert t.probes[0].url == "https://shop.example/"
    assert t.timeout == 5.0 and t.probes[0].timeout is None
    assert t.probes[0].status_ok(200) and t.probes[0].status_ok(301) and not t.probes[0].status_ok(201)


def test_a_list_of_probes_uses_paths_under_base_url():
    cfg = parse_config("""
targets:
  - name: shop-api
    kind: http
    base_url: http://127.0.0.1:8000/
    probes:
      - {name: home, url: /, timeout: 2s}
      - {name: health, url: api/health, health: {dependencies: $.checks}}
""", env={})
    t = cfg.targets[0]
    assert [t.probe_url(p) for p in t.probes] == ["http://127.0.0.1:8000/", "http://127.0.0.1:8000/api/health"]
    assert t.probes[0].timeout == 2.0


@pytest.mark.parametrize(("yaml_probes", "message"), [
    ("[{name: a, url: /x}]", "is a path but the target has no base_url"),
    ("[{name: a, url: 'http://h/'}, {name: a, url: 'http://h/'}]", "duplicate probe names: a"),
    ("[{name: a, url: 'http://h/', expect_status: [299x]}]", "is not a status code or class"),
    ("[{name: a, url: 'http://h/', prometheus: {allow_regex: ['(']}}]", "invalid regex"),
])
def test_mistakes_in_probes_are_config_errors(yaml_probes, message):
    with pytest.raises(ConfigError) as err:
        parse_config(f"targets:\n  - {{name: t, kind: http, probes: {yaml_probes}}}\n", env={})
    assert message in str(err.value)
