"""Annotation templates read values in the rule's unit and never say "nan"."""
from __future__ import annotations

import pytest

from alerts.templates import check, condition_text, context, render

THRESHOLDS = {"op": ">", "warning": 0.05, "critical": 0.1}


def _render(template: str, value: float | None, unit: str, severity: str | None = "critical") -> str:
    return render(template, context("r", {"target": "shop"}, value, THRESHOLDS, severity, unit))


def test_value_and_thresholds_without_a_spec_read_in_the_rules_unit():
    text = _render("{value} > {threshold} (warning {warning}, critical {critical})", 0.4051, "ratio")
    assert text == "40.5 % > 10.0 % (warning 5.0 %, critical 10.0 %)"


def test_a_seconds_rule_reads_in_milliseconds_and_a_bytes_rule_in_binary_units():
    assert _render("mean {value}", 0.231, "seconds") == "mean 231 ms"
    assert _render("grew {value}", 3.2e9, "bytes") == "grew 3.0 GiB"


def test_an_explicit_format_spec_still_formats_the_number():
    assert _render("{value:.1%} on {labels[target]}", 0.4051, "ratio") == "40.5% on shop"
    assert _render("{value:.3f}s", 0.2314, "seconds") == "0.231s"


@pytest.mark.parametrize("template", ["{value}", "{value:.0%}", "mean {value:.3f}s", "{value!r}", "{value!s}"])
def test_a_missing_value_renders_a_dash_never_nan(template):
    for missing in (None, float("nan")):
        text = _render(template, missing, "ratio")
        assert "nan" not in text.lower() and "–" in text


def test_a_threshold_the_rule_does_not_set_renders_a_dash_not_none():
    ctx = context("r", {}, 1.0, {"op": ">", "critical": 2.0}, None, "none")
    assert render("warning {warning}, critical {critical}, at {threshold}", ctx) == "warning –, critical 2, at –"


def test_a_bad_format_spec_is_still_refused_when_the_config_is_checked():
    with pytest.raises(ValueError):
        check("{value:xyz}")
    with pytest.raises(ValueError, match="attribute access"):
        check("{value.__class__}")


def test_the_condition_reads_in_words_and_in_the_unit():
    assert condition_text({**THRESHOLDS, "unit": "ratio"}) == "warning above 5.0 %, critical above 10.0 %"
    assert condition_text({"op": "<", "critical": 0.8, "unit": "ratio"}) == "critical below 80.0 %"
