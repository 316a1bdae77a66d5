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
    assert p.startswith("config.yaml:3 alerting.rules[0]: rule 'slow': expr.agg:")


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
    assert "target_down" in names and "cache_hit_ratio" in names and len(names) == 10


def test_alert_history_is_kept_90_days_unless_configured():
    assert parse_config("").alerting.history_retention == 90 * 86400.0
    assert parse_config("alerting:\n  history_retention: 30d\n").alerting.history_retention == 30 * 86400.0


def test_a_history_retention_that_is_not_a_duration_is_reported_with_its_key():
    [p] = problems("alerting:\n  history_retention: 90\n")
    assert p == "config.yaml:2 alerting.history_retention: 90 is not a duration (use 15s, 5m, 1h)"


def test_a_history_retention_of_zero_is_refused():
    [p] = problems("alerting:\n  history_retention: 0s\n")
    assert p == "config.yaml:2 alerting.history_retention: must be positive"
