"""check-config checks what a config means: metric and label names, JSON paths, target and
family names; each problem at the line of the key at fault, in words, not a library's dump."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from composition.config import load_config, parse_config
from core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
TARGETS = """targets:
  - {name: db, kind: postgres, dsn: "postgresql://u@127.0.0.1/shop"}
  - name: pools
    kind: pool
    apps:
      - {name: api, url: "http://127.0.0.1:9/pool", fields: {in_use: $.database.totalCount}}
  - name: api
    kind: http
    base_url: http://127.0.0.1:9
    probes:
      - {name: metrics, url: /metrics, prometheus: {}}
  - name: business
    kind: sql
    url: postgresql+psycopg://u@127.0.0.1/shop
    queries:
      - {name: paid, metric: shop_paid_total, kind: counter, help: Paid orders., sql: SELECT 1}
"""
LINTERNALS = ("Input should", "type=", "pydantic", "function-", "list[", "Expr", "input_value")


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config(text, check=True)
    for p in exc.value.problems:
        assert not any(word in p for word in LINTERNALS), p
    return exc.value.problems


def rule(body: str) -> str:
    return TARGETS + "alerting:\n  rules:\n    - name: r\n" + body


def test_a_misspelt_metric_is_refused_at_its_line_with_the_right_name_suggested():
    [p] = problems(rule("      expr: {metric: lookout_pool_utilisation_ratio}\n      warning: 0.8\n"))
    assert p.startswith("config.yaml:20 alerting.rules[0].expr.metric: unknown metric "
                        "'lookout_pool_utilisation_ratio' (did you mean 'lookout_pool_utilization_ratio'?)")


def test_a_misspelt_ratio_denominator_and_only_if_are_refused_too():
    found = problems(rule("      ratio:\n        numerator: {metric: pg_stat_statements_seconds_total}\n"
                          "        denominator: [{metric: pg_stat_statements_call_total}]\n"
                          "      warning: 1\n"
                          "    - name: lag\n      expr: {metric: pg_replication_lag_seconds, only_if: pg_is_replica}\n"
                          "      warning: 30\n"))
    assert [p.split(": ")[0] for p in found] == [
        "config.yaml:22 alerting.rules[0].ratio.denominator[0].metric", "config.yaml:25 alerting.rules[1].expr.only_if"]
    assert "did you mean 'pg_stat_statements_calls_total'?" in found[0]


def test_an_unknown_label_in_match_and_by_is_refused_with_the_labels_the_metric_has():
    found = problems(rule("      expr:\n        metric: lookout_pool_waiting_clients\n        match: {pol: api}\n"
                          "        by: [tier]\n      warning: 1\n"))
    assert found[0].startswith("config.yaml:22 alerting.rules[0].expr.match.pol: 'lookout_pool_waiting_clients' "
                               "has no label 'pol' (did you mean 'pool'?")
    assert found[1].startswith("config.yaml:23 alerting.rules[0].expr.by[0]: 'lookout_pool_waiting_clients' "
                               "has no label 'tier'")


def test_a_promise_of_the_users_own_is_checked_like_a_rule():
    [p] = problems(TARGETS + "promises:\n  objectives:\n    - id: hits\n      title: Hits\n      objective: 0.9\n"
                   "      events:\n        good: [{metric: redis_keyspace_hit_total}]\n"
                   "        total: [{metric: redis_keyspace_hits_total}]\n")
    assert p.startswith("config.yaml:23 promises.objectives[0].events.good[0].metric: unknown metric "
                        "'redis_keyspace_hit_total' (did you mean 'redis_keyspace_hits_total'?)")


def test_a_metric_the_config_produces_is_not_an_error_but_a_misspelt_own_name_still_is():
    text = rule("      expr: {metric: shop_paid_total, agg: increase, match: {status: paid}}\n      warning: 1\n"
                "    - name: app\n      expr: {metric: http_requests_total, match: {status: '5..'}}\n      warning: 1\n"
                "    - name: own\n      expr: {metric: lookout_http_app_eror_ratio}\n      warning: 1\n")
    [p] = problems(text)
    assert "alerting.rules[2].expr.metric: unknown metric 'lookout_http_app_eror_ratio'" in p


def test_a_malformed_json_path_is_refused_at_its_key():
    found = problems(TARGETS.replace("$.database.totalCount", "'$.database['"))
    assert len(found) == 1 and found[0].startswith("config.yaml:6 targets[1].apps[0].fields.in_use: ")
    assert "$.database[" in found[0]


def test_a_dependency_on_a_target_that_does_not_exist_is_refused():
    found = problems(TARGETS + "alerting:\n  dependencies:\n    - {target: dbb, dependents: [api, cache]}\n")
    assert found == ["config.yaml:19 alerting.dependencies[0].target: no target is named 'dbb' (did you mean 'db'?)",
                     "config.yaml:19 alerting.dependencies[0].dependents[1]: no target is named 'cache' "
                     "(targets: db, pools, api, business)"]


def test_an_interval_for_an_unknown_family_is_refused_with_the_families():
    [p] = problems(TARGETS.replace('/shop"}', '/shop", intervals: {statments: 1m}}'))
    assert p.startswith("config.yaml:2 targets[0].intervals.statments: unknown family 'statments' "
                        "(did you mean 'statements'?")


def test_a_bad_for_is_reported_at_the_for_line_not_the_rules():
    [p] = problems(rule("      expr: {metric: lookout_target_up}\n      critical: 1\n      for: 5 minutes\n"))
    assert p == "config.yaml:22 alerting.rules[0].for: rule 'r': '5 minutes' is not a duration (use 15s, 5m, 1h)"


def test_by_given_one_name_instead_of_a_list_says_how_to_write_it():
    [p] = problems(rule("      expr: {metric: lookout_target_up, by: target}\n      critical: 1\n"))
    assert p == ("config.yaml:20 alerting.rules[0].expr.by: rule 'r': must be a list of names, "
                 "e.g. `by: [target]` (got 'target')")


def test_a_ratio_side_that_is_no_expression_says_what_is_wrong_once():
    [p] = problems(rule("      ratio: {numerator: {metric: lookout_target_up, agg: median}, "
                        "denominator: {metric: lookout_target_up}}\n      critical: 1\n"))
    assert p.startswith("config.yaml:20 alerting.rules[0].ratio.numerator.agg: rule 'r': must be ")


def test_the_shipped_config_the_default_rules_and_the_deploy_example_pass(monkeypatch):
    load_config(ROOT / "config.yaml")
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    defaults = yaml.safe_load((ROOT / "alerts" / "default_rules.yaml").read_text())
    cfg["alerting"] = {**defaults, "notifications": cfg["alerting"]["notifications"]}
    parse_config(yaml.safe_dump(cfg), check=True)
    env = {"LOOKOUT_STORE_URL": "postgresql+psycopg://u:p@h/db", "SHOP_DB_PASSWORD": "x",
           "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/x"}
    load_config(ROOT / "deploy" / "config.cluster.yaml", env=env)


def test_parse_config_checks_meaning_only_when_asked():
    text = rule("      expr: {metric: lookout_pool_utilisation_ratio}\n      warning: 0.8\n")
    assert parse_config(text).alerting.rules[0].name == "r"
