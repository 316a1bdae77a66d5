"""Tolerant readers for INFO text and its ``k=v,k=v`` values: never raise."""
from __future__ import annotations


def parse_info(text: str) -> dict[str, dict[str, str]]:
    """INFO text -> {section: {field: raw value}}. Tolerates any garbage line."""
    out: dict[str, dict[str, str]] = {}
    section = out.setdefault("", {})
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#"):
            section = out.setdefault(line.lstrip("# ").strip().lower(), {})
        elif ":" in line:
            key, _, value = line.partition(":")
            section[key] = value
    return out


def number(raw: str | None) -> float | None:
    """A float, or None for text, empty or missing values (never raises)."""
    if raw is None:
        return None
    try:
        v = float(raw)
    except ValueError:
        return None
    return None if v != v else v  # NaN is "no value"


def kv_pairs(raw: str) -> dict[str, str]:
    """``calls=21,usec=175`` -> {'calls': '21', 'usec': '175'}; malformed parts dropped."""
    out = {}
    for part in raw.split(","):
        k, sep, v = part.partition("=")
        if sep:
            out[k.strip()] = v.strip()
    return out
