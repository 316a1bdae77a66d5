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


def test_a_malformed_health_path_is_a_config_error_at_its_key():
    with pytest.raises(ConfigError) as err:
        parse_config("""
targets:
  - name: api
    kind: http
    base_url: http://127.0.0.1:8000
    probes:
      - name: health
        url: /api/health
        health:
          dependencies: $.services
          latency: $.took[
""", env={})
    assert str(err.value).startswith("config.yaml:11 targets[0].probes[0].health.latency: "
                                     "malformed JSON path '$.took[': unexpected end of query")


def test_a_malformed_pool_field_path_is_a_config_error_at_its_key():
    with pytest.raises(ConfigError) as err:
        parse_config("""
targets:
  - name: pools
    kind: pool
    apps:
      - name: shop
        url: http://127.0.0.1:8000/api/pool
        fields:
          in_use: $.database.totalCount
          idle: database.idleCount]
""", env={})
    assert str(err.value).startswith("config.yaml:10 targets[0].apps[0].fields.idle: "
                                     "malformed JSON path 'database.idleCount]'")


def test_error_status_and_urls_read_as_written():
    cfg = parse_config("""
targets:
  - name: shop-api
    kind: http
    base_url: http://127.0.0.1:8000
    error_status: [5xx, 402]
    probes:
      - {name: products, urls: [/api/products/1, /api/products/2], cache_header: X-Cache}
""", env={})
    t = cfg.targets[0]
    assert t.probe_urls(t.probes[0]) == ["http://127.0.0.1:8000/api/products/1", "http://127.0.0.1:8000/api/products/2"]
    assert t.is_error(402) and t.is_error(503) and not t.is_error(404) and not t.is_error(200)


@pytest.mark.parametrize(("yaml_probes", "message"), [
    ("[{name: a, url: 'http://h/', urls: ['http://h/b']}]", "give exactly one of url or urls"),
    ("[{name: a}]", "give exactly one of url or urls"),
    ("[{name: a, urls: ['http://h/1', 'http://h/2'], health: {}}]", "health and prometheus read one document"),
])
def test_a_probe_has_url_or_urls(yaml_probes, message):
    with pytest.raises(ConfigError) as err:
        parse_config(f"targets:\n  - {{name: t, kind: http, probes: {yaml_probes}}}\n", env={})
    assert message in str(err.value)


def test_a_malformed_error_status_is_a_config_error_at_its_key():
    with pytest.raises(ConfigError) as err:
        parse_config("targets:\n  - name: t\n    kind: http\n    url: http://h/\n    error_status: [5xx, 40]\n", env={})
    assert str(err.value).startswith("config.yaml:5 targets[0].error_status: 40 is not a status code or class")
