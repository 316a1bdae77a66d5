"""Annotation templates: ``str.format`` fields over labels, value and thresholds only.

Attribute access (``{value.__class__}``) is refused, so a template can reach
nothing but the values handed to it::

    "{labels[target]}: mean query time {value:.3f}s > {warning}s"  ->  "db: mean query time 0.231s > 0.1s"
"""
from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any


class _SafeFormatter(string.Formatter):
    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if "." in field_name.split("[", 1)[0] or "]." in field_name:
            raise ValueError(f"attribute access is not allowed in templates: {{{field_name}}}")
        return super().get_field(field_name, args, kwargs)


class _Labels(dict):
    def __missing__(self, key: str) -> str:
        return ""  # a series without that label renders as empty, not as an error


_FMT = _SafeFormatter()
FIELDS = ("labels", "value", "warning", "critical", "threshold", "op", "severity", "rule")


def context(rule: str, labels: Mapping[str, str], value: float | None, thresholds: Mapping[str, Any],
            severity: str | None) -> dict[str, Any]:
    return {"labels": _Labels(labels), "value": float("nan") if value is None else value,
            "warning": thresholds.get("warning"), "critical": thresholds.get("critical"),
            "threshold": thresholds.get(severity) if severity else None, "op": thresholds.get("op"),
            "severity": severity or "", "rule": rule}


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
