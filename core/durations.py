"""Durations as people write them in config: ``15s``, ``5m``, ``1h30m``, ``7d``."""
from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, ValidationInfo

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+")


def parse_duration(value: Any) -> float:
    """Return seconds. Bare numbers are refused: ``15`` could mean s or ms."""
    if isinstance(value, bool) or not isinstance(value, str) or not _WHOLE.fullmatch(value.strip()):
        raise ValueError(f"{value!r} is not a duration (use 15s, 5m, 1h)")
    return sum(float(n) * _UNITS[u] for n, u in _PART.findall(value.strip()))


def format_duration(seconds: float) -> str:
    """Shortest exact spelling: 90 -> '1m30s', 0.5 -> '500ms'."""
    if seconds < 1 and seconds > 0:
        return f"{round(seconds * 1000)}ms"
    out, rest = [], int(round(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(out) or "0s"


def _coerce(value: Any, info: ValidationInfo) -> float:
    from_file = bool(info.context and info.context.get("from_file"))
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not from_file:
        # Already seconds: models built in code (tests) pass floats. In a file a
        # bare number is ambiguous (seconds? milliseconds?) and refused.
        return float(value)
    return parse_duration(value)


# A config field typed ``Duration`` accepts '15s' and holds float seconds.
Duration = Annotated[float, BeforeValidator(_coerce), PlainSerializer(format_duration, return_type=str)]
