"""Units of metric values, and how a person reads them.

A metric's unit is declared by its name, as Prometheus' naming rules ask
(``_seconds``, ``_bytes``, ``_ratio``), or given explicitly where a name
cannot say it (a rule's or a promise's ``unit:``, e.g. ``eur`` for revenue).
Every surface (cards, tables, alert summaries, Slack, email) formats through
:func:`format_value`, so the same number reads the same everywhere::

    format_value(0.4051, "ratio")    -> "40.5 %"
    format_value(0.000052, "seconds") -> "52 µs"
    format_value(3.2e9, "bytes")     -> "3.0 GiB"
    format_value(1234.5, "eur")      -> "€1,234.50"
"""
from __future__ import annotations

import math
from typing import Literal, get_args

Unit = Literal["ratio", "seconds", "bytes", "count", "eur", "usd", "none"]
UNITS: tuple[str, ...] = get_args(Unit)

_SUFFIXES: tuple[tuple[str, Unit], ...] = (
    ("_ratio", "ratio"),
    ("_seconds", "seconds"),
    ("_seconds_total", "seconds"),
    ("_bytes", "bytes"),
    ("_bytes_total", "bytes"),
    ("_total", "count"),
    ("_count", "count"),
)
_SYMBOLS = {"eur": "€", "usd": "$"}


def unit_for_metric(name: str) -> Unit:
    """The unit a metric's name declares; ``none`` where the name says nothing."""
    for suffix, unit in sorted(_SUFFIXES, key=lambda s: -len(s[0])):
        if name.endswith(suffix):
            return unit
    return "none"


def format_value(value: float | None, unit: str = "none") -> str:
    """``value`` as a person reads it in ``unit``; "–" for no value (None or NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if unit == "ratio":
        pct = value * 100
        # Near 100 % a promise lives in the decimals (99.9 % uptime).
        if 99.5 <= pct < 100:
            return f"{pct:.2f} %"
        return f"{pct:.1f} %" if abs(pct) < 1000 else f"{pct:,.0f} %"
    if unit == "seconds":
        return _seconds(value)
    if unit == "bytes":
        return _bytes(value)
    if unit in _SYMBOLS:
        return f"{'-' if value < 0 else ''}{_SYMBOLS[unit]}{abs(value):,.2f}"
    if unit == "count":
        return f"{value:,.0f}" if value == int(value) or abs(value) >= 100 else f"{value:,.2f}"
    return _plain(value)


def _seconds(v: float) -> str:
    a = abs(v)
    if a == 0:
        return "0 s"
    if a < 0.001:  # the demo's statements average 50 µs: "0 ms" reads as broken
        return f"{v * 1e6:.0f} µs"
    if a < 0.01:
        return f"{v * 1000:.1f} ms"
    if a < 1:
        return f"{v * 1000:.0f} ms"
    if a < 10:
        return f"{v:.2f} s"
    if a < 120:
        return f"{v:.1f} s"
    if a < 7200:
        return f"{v / 60:.1f} min"
    if a < 172800:
        return f"{v / 3600:.1f} h"
    return f"{v / 86400:.1f} d"


def _bytes(v: float) -> str:
    a = abs(v)
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if a >= size:
            return f"{v / size:.1f} {unit}"
    return f"{v:.0f} B"


def _plain(v: float) -> str:
    if v == int(v) and abs(v) < 1e15:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:,.1f}"
    return f"{v:.4g}"
