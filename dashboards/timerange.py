"""The view a URL describes: time range and auto-refresh, both in the query string.

``?range=6h&refresh=15s`` or ``?range=custom&from=2026-01-01T00:00Z&to=...``
so that a link (an alert message's, a colleague's) reproduces the view.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode

RANGES: dict[str, float] = {"15m": 900, "1h": 3600, "6h": 6 * 3600, "24h": 86400,
                            "7d": 7 * 86400, "30d": 30 * 86400}
RANGE_LABELS = {"15m": "15 min", "1h": "1 hour", "6h": "6 hours", "24h": "24 hours",
                "7d": "7 days", "30d": "30 days", "custom": "Custom"}
REFRESH: dict[str, int | None] = {"off": None, "5s": 5_000, "15s": 15_000, "1m": 60_000}
REFRESH_LABELS = {"off": "Off", "5s": "5 s", "15s": "15 s", "1m": "1 min"}
DEFAULT_RANGE = "1h"
DEFAULT_REFRESH = "15s"
MAX_CUSTOM = 400 * 86400


@dataclass(frozen=True)
class View:
    range: str
    refresh: str
    start: float
    end: float
    custom_from: str = ""
    custom_to: str = ""

    @property
    def span(self) -> float:
        return self.end - self.start

    @property
    def interval_ms(self) -> int | None:
        return REFRESH[self.refresh]

    def search(self) -> str:
        return to_search(self.range, self.refresh, self.custom_from, self.custom_to)


def parse_time(text: str) -> float | None:
    """ISO 8601 (naive = UTC, as a datetime-local input sends) or epoch seconds."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text)  # 3.11 reads a trailing Z
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def iso_minute(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M")


def parse_search(search: str | None, now: float) -> View:
    """Never raises: an unknown value falls back to the default, so an old link still opens."""
    qs = parse_qs((search or "").lstrip("?"))

    def one(key: str) -> str:
        return (qs.get(key) or [""])[0]

    rng = one("range") or DEFAULT_RANGE
    refresh = one("refresh") or DEFAULT_REFRESH
    if refresh not in REFRESH:
        refresh = DEFAULT_REFRESH
    if rng == "custom":
        start, end = parse_time(one("from")), parse_time(one("to"))
        end = now if end is None else min(end, now)
        if start is not None and start < end and end - start <= MAX_CUSTOM:
            return View("custom", refresh, start, end, one("from"), one("to"))
        rng = DEFAULT_RANGE
    if rng not in RANGES:
        rng = DEFAULT_RANGE
    return View(rng, refresh, now - RANGES[rng], now)


def to_search(rng: str, refresh: str, custom_from: str = "", custom_to: str = "") -> str:
    params = {"range": rng, "refresh": refresh}
    if rng == "custom":
        params.update({"from": custom_from or "", "to": custom_to or ""})
    return "?" + urlencode(params)
