"""Annotation templates: ``str.format`` fields over labels, value, thresholds and ``{items}`` only.

Attribute access (``{value.__class__}``) is refused, so a template can reach
nothing but the values handed to it. ``{value}``, ``{warning}``,
``{critical}`` and ``{threshold}`` without a format spec read in the rule's
unit (core.units); with one they format the number as before, and a missing
value is "–" either way, never "nan"::

    "{labels[target]}: mean query time {value} > {warning}"  ->  "db: mean query time 231 ms > 100 ms"
    "Payment failures at {value:.1%}"                        ->  "Payment failures at 12.0%"
"""
from __future__ import annotations

import math
import string
from collections.abc import Mapping
from typing import Any

from core.units import format_value


class _SafeFormatter(string.Formatter):
    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if "." in field_name.split("[", 1)[0] or "]." in field_name:
            raise ValueError(f"attribute access is not allowed in templates: {{{field_name}}}")
        return super().get_field(field_name, args, kwargs)


class _Labels(dict):
    def __missing__(self, key: str) -> str:
        return ""  # a series without that label renders as empty, not as an error


class Quantity:
    """A number in its unit: ``{q}`` reads "40.5 %", ``{q:.3f}`` formats the number, None is "–"."""

    __slots__ = ("unit", "value")

    def __init__(self, value: float | None, unit: str = "none") -> None:
        self.value = None if value is None or (isinstance(value, float) and math.isnan(value)) else value
        self.unit = unit

    def __format__(self, spec: str) -> str:
        if self.value is None:
            return "–"
        if not spec:
            return format_value(self.value, self.unit)
        return format(float(self.value), spec)

    def __str__(self) -> str:
        return format(self, "")

    __repr__ = __str__  # {value!r} too: never "nan", never the class name


_FMT = _SafeFormatter()
FIELDS = ("labels", "value", "warning", "critical", "threshold", "op", "severity", "rule", "items")
_OP_WORDS = {">": "above", ">=": "at or above", "<": "below", "<=": "at or below"}


def context(rule: str, labels: Mapping[str, str], value: float | None, thresholds: Mapping[str, Any],
            severity: str | None, unit: str = "none", items: str = "–") -> dict[str, Any]:
    """``items``: the rule's ``{items}`` already rendered (alerts.items), "–" for a rule without."""
    return {"labels": _Labels(labels), "value": Quantity(value, unit),
            "warning": Quantity(thresholds.get("warning"), unit),
            "critical": Quantity(thresholds.get("critical"), unit),
            "threshold": Quantity(thresholds.get(severity) if severity else None, unit),
            "op": thresholds.get("op"), "severity": severity or "", "rule": rule, "items": items}


def condition_text(thresholds: Mapping[str, Any]) -> str:
    """The rule's condition in words: "warning above 5.0 %, critical above 10.0 %".

    ``thresholds`` as the engine stores them (``Rule.thresholds()`` plus ``unit``).
    """
    unit = str(thresholds.get("unit") or "none")
    words = _OP_WORDS.get(str(thresholds.get("op")), str(thresholds.get("op") or ""))
    parts = [f"{sev} {words} {format_value(thresholds[sev], unit)}" for sev in ("warning", "critical")
             if isinstance(thresholds.get(sev), (int, float))]
    return ", ".join(parts) or "no threshold"


def uses(template: str, name: str) -> bool:
    """Whether ``template`` has a field ``name`` (``{items}``, ``{labels[x]}`` for "labels")."""
    try:
        return any(f is not None and f.split("[", 1)[0].split(".", 1)[0].split("!", 1)[0] == name
                   for _text, f, _spec, _conv in _FMT.parse(template))
    except ValueError:
        return False  # unparsable: check() says why


def render(template: str, ctx: Mapping[str, Any]) -> str:
    try:
        return _FMT.vformat(template, (), dict(ctx))
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        # A bad template must not stop the page: send it raw with the reason.
        return f"{template} [template error: {exc}]"


def check(template: str) -> None:
    """Raise ValueError for a template that cannot render (unknown field, attribute access)."""
    ctx = context("rule", {}, 1.0, {"op": ">", "warning": 1.0, "critical": 2.0}, "warning")
    try:
        _FMT.vformat(template, (), ctx)
    except (KeyError, IndexError) as exc:
        raise ValueError(f"unknown field {exc} (use {', '.join(FIELDS)})") from None
    except (ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from None
