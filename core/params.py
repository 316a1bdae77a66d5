"""Query-parameter parsing for the JSON API: every error names its parameter.

Values are checked against what the store can hold, so a request the store would
refuse is a 400 here, never a 500 there: ids fit the store's ``INTEGER`` columns
(32-bit signed on PostgreSQL, the narrower of the two stores), integers are plain
decimal digits (no ``1_000``, no ``+ 5``), and no text has a NUL byte (PostgreSQL's
text columns cannot hold one). A bad value is refused, never replaced by a guess.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime

from core.durations import parse_duration

_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INTEGER = re.compile(r"-?[0-9]{1,20}")

# The largest id the store's INTEGER primary keys hold on PostgreSQL (SQLite's are wider).
MAX_ID = 2**31 - 1
_METRIC_NAME = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:]*$")


class ParamError(ValueError):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


def metric_name(args: Mapping[str, str], param: str = "name") -> str:
    value = args.get(param, "")
    if not value:
        raise ParamError(param, "required (a metric name such as lookout_target_up)")
    if not _METRIC_NAME.match(value) or len(value) > 200:
        raise ParamError(param, f"{value[:80]!r} is not a metric name")
    return value


def labels(args: Mapping[str, str], param: str = "labels") -> dict[str, str]:
    """``labels`` as a JSON object or as ``k=v,k2=v2``."""
    raw = args.get(param, "")
    if not raw:
        return {}
    if raw.lstrip().startswith("{"):
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise ParamError(param, "is not valid JSON") from None
        if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
            raise ParamError(param, "must be a JSON object of string values")
        pairs = parsed
    else:
        pairs = {}
        for part in raw.split(","):
            key, sep, val = part.partition("=")
            if not sep:
                raise ParamError(param, f"{part[:80]!r} is not key=value")
            pairs[key.strip()] = val.strip()
    for key, val in pairs.items():
        if not _LABEL_NAME.match(key):
            raise ParamError(param, f"{key[:80]!r} is not a label name")
        check_text(val, param)
    return pairs


def timestamp(args: Mapping[str, str], param: str, default: float, now: float) -> float:
    """Epoch seconds, RFC 3339, ``now`` or ``now-1h``/``-1h`` relative to now."""
    raw = args.get(param, "").strip()
    if not raw:
        return default
    if raw == "now":
        return now
    rel = raw.removeprefix("now")
    if rel.startswith("-"):
        try:
            return now - parse_duration(rel[1:])
        except ValueError:
            raise ParamError(param, f"{raw[:80]!r} is not a relative time (use now-1h or -15m)") from None
    try:
        value = float(raw)
        if value != value or value in (float("inf"), float("-inf")) or not 0 <= value < 1e11:
            raise ValueError
        return value
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if dt.tzinfo is None:
            raise ParamError(param, f"{raw[:80]!r} has no time zone (add Z or +00:00)")
        return dt.timestamp()
    except ValueError:
        raise ParamError(param, f"{raw[:80]!r} is not a time (epoch seconds, RFC 3339, now or now-1h)") from None


def integer(args: Mapping[str, str], param: str, default: int, lo: int, hi: int) -> int:
    raw = args.get(param, "").strip()
    if not raw:
        return default
    if not _INTEGER.fullmatch(raw):
        raise ParamError(param, f"{raw[:80]!r} is not an integer")
    value = int(raw)
    if not lo <= value <= hi:
        raise ParamError(param, f"must be between {lo} and {hi}, not {raw[:40]}")
    return value


def identifier(args: Mapping[str, str], param: str, lo: int = 1) -> int | None:
    """An optional id: ``lo`` .. :data:`MAX_ID` (the store's column), or None when absent."""
    if not args.get(param, "").strip():
        return None
    return integer(args, param, 0, lo, MAX_ID)


def check_text(value: str, param: str, max_length: int = 1000) -> str:
    if "\x00" in value:
        raise ParamError(param, "must not contain a NUL byte")
    if len(value) > max_length:
        raise ParamError(param, f"is longer than {max_length} characters")
    return value


def text(args: Mapping[str, str], param: str, max_length: int = 200) -> str | None:
    """An optional string parameter without NUL bytes, at most ``max_length`` characters."""
    raw = args.get(param)
    if raw is None or raw == "":
        return None
    return check_text(raw, param, max_length)


def choice(args: Mapping[str, str], param: str, options: tuple[str, ...]) -> str:
    raw = args.get(param, "") or options[0]
    if raw not in options:
        raise ParamError(param, f"must be one of {', '.join(options)}, not {raw[:40]!r}")
    return raw
