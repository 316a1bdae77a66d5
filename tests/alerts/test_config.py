"""The alerting section: defaults, validation messages, shipped default rules."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from alerts.config import AlertingConfig
from composition.config import parse_config
from core.errors import ConfigError

DEFAULTS = Path(__file__).resolve().parents[2] / "alerts" / "default_rules.yaml"


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config(text)
    return exc.value.problems


def test_alerting_is_optional_and_evaluates_every_15s():
    assert parse_config("").alerting.evaluation_interval == 15.0


def test_a_malformed_rule_is_reported_with_its_name_and_the_key():
    [p] = problems("alerting:\n  rules:\n    - name: slow\n      expr: {metric: m, agg: median}\n      warning: 1\n")
    # At the line of the key itself (issue 16), in words, with the value given.
    assert p.startswith("config.yaml:4 alerting.rules[0].expr.agg: rule 'slow': must be 'last'"), p
    assert p.endswith("(got 'median')"), p


def test_two_rules_with_one_name_are_refused():
    [p] = problems("alerting:\n  rules:\n" + "    - {name: a, expr: {metric: m}, warning: 1}\n" * 2)
    assert "duplicate rule name 'a'" in p


def test_a_template_reaching_for_attributes_is_refused():
    [p] = problems("alerting:\n  rules:\n    - name: t\n      expr: {metric: m}\n      warning: 1\n"
                   "      annotations: {summary: '{value.__class__}'}\n")
    assert "rule 't': annotations.summary: attribute access is not allowed" in p


def test_critical_less_severe_than_warning_is_refused():
    [p] = problems("alerting:\n  rules:\n    - {name: c, expr: {metric: m}, op: '<', warning: 0.8, critical: 0.9}\n")
    assert "critical (0.9) is less severe than warning (0.8)" in p


def test_the_shipped_default_rules_load():
    cfg = AlertingConfig.model_validate(yaml.safe_load(DEFAULTS.read_text()), context={"from_file": True})
    names = [r.name for r in cfg.rules]
    assert "target_down" in names and len(names) == 9
    # What a promise holds has no threshold rule beside it (issue 15: one truth per claim).
    assert not {"payment_failure_ratio", "cache_hit_ratio", "pool_utilization"} & set(names)


def test_alert_history_is_kept_90_days_unless_configured():
    assert parse_config("").alerting.history_retention == 90 * 86400.0
    assert parse_config("alerting:\n  history_retention: 30d\n").alerting.history_retention == 30 * 86400.0


def test_a_history_retention_that_is_not_a_duration_is_reported_with_its_key():
    [p] = problems("alerting:\n  history_retention: 90\n")
    assert p == "config.yaml:2 alerting.history_retention: 90 is not a duration (use 15s, 5m, 1h)"


def test_a_history_retention_of_zero_is_refused():
    [p] = problems("alerting:\n  history_retention: 0s\n")
    assert p == "config.yaml:2 alerting.history_retention: must be positive"


# -- the unit a rule's values read in ---------------------------------------------------

def _rule(**kw: object) -> dict:
    return {"name": "r", "expr": {"metric": "m"}, "warning": 1.0, **kw}


def test_a_rules_unit_defaults_to_what_its_metric_name_declares():
    rules = AlertingConfig.model_validate({"rules": [
        _rule(name="a", expr={"metric": "lookout_pool_utilization_ratio"}),
        _rule(name="b", expr={"metric": "pg_replication_lag_seconds"}),
        _rule(name="c", expr={"metric": "pg_database_size_bytes"}),
        _rule(name="d", expr={"metric": "lookout_pg_blocked_sessions"})]}).rules
    assert [r.value_unit() for r in rules] == ["ratio", "seconds", "bytes", "none"]


def test_a_ratio_rule_reads_as_a_ratio_unless_it_divides_time_by_a_count():
    share = {"numerator": {"metric": "payments_failed_total"}, "denominator": {"metric": "payments_total"}}
    per_call = {"numerator": {"metric": "pg_stat_statements_seconds_total"},
                "denominator": {"metric": "pg_stat_statements_calls_total"}}
    rules = AlertingConfig.model_validate({"rules": [
        {"name": "share", "ratio": share, "warning": 0.05},
        {"name": "per_call", "ratio": per_call, "warning": 0.1}]}).rules
    assert [r.value_unit() for r in rules] == ["ratio", "seconds"]


def test_an_explicit_unit_wins_and_an_unknown_one_is_refused():
    [r] = AlertingConfig.model_validate({"rules": [_rule(unit="eur")]}).rules
    assert r.value_unit() == "eur"
    [p] = problems("alerting:\n  rules:\n    - name: r\n      expr: {metric: m}\n      warning: 1\n"
                   "      unit: percent\n")
    assert p.startswith("config.yaml:6 alerting.rules[0].unit: rule 'r': must be 'ratio'"), p
