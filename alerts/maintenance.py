"""Recurring maintenance windows: weekday + time range, or a small cron spec + duration.

    - {name: nightly-vacuum, weekdays: [sun], start: "02:00", end: "03:30", timezone: Europe/Berlin}
    - {name: deploys, cron: "0 9,14 * * mon-fri", duration: 30m, timezone: UTC, match: {team: shop}}

A window mutes notifications of the alerts it matches; evaluation and history go on.
Cron fields: minute hour day-of-month month day-of-week, each ``*``, a number,
a list, a range ``a-b`` and a step ``*/n`` or ``a-b/n``; weekdays as 0-7 or mon..sun.
"""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
MAX_CRON_DURATION = 7 * 86400.0


def _hhmm(text: str) -> time:
    m = _HHMM.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a time of day (HH:MM)")
    return time(int(m.group(1)), int(m.group(2)))


def _day(text: str) -> int:
    t = text.strip().lower()[:3]
    if t in DAYS:
        return DAYS.index(t)
    raise ValueError(f"{text!r} is not a weekday (mon..sun)")


def _cron_field(spec: str, lo: int, hi: int, dow: bool) -> frozenset[int]:
    out: set[int] = set()
    for part in spec.lower().split(","):
        body, _, step = part.partition("/")
        if dow:
            for i, d in enumerate(DAYS):
                body = body.replace(d, str((i + 1) % 7))
        if body == "*":
            a, b = lo, hi
        elif "-" in body:
            a, b = (int(x) for x in body.split("-", 1))
        else:
            a = b = int(body)
        n = int(step) if step else 1
        if not (lo <= a <= b <= hi) or n < 1:
            raise ValueError(f"cron field {spec!r} is out of range {lo}-{hi}")
        out.update(range(a, b + 1, n))
    return frozenset(v % 7 if dow else v for v in out)


def parse_cron(spec: str) -> tuple[frozenset[int], ...]:
    fields = spec.split()
    if len(fields) != 5:
        raise ValueError(f"cron {spec!r} needs 5 fields: minute hour day-of-month month day-of-week")
    try:
        pairs = enumerate(zip(fields, _RANGES, strict=True))
        return tuple(_cron_field(f, lo, hi, i == 4) for i, (f, (lo, hi)) in pairs)
    except ValueError as exc:
        raise ValueError(str(exc) if "cron" in str(exc) else f"cron {spec!r}: {exc}") from None


def _cron_hit(c: tuple[frozenset[int], ...], t: datetime) -> bool:
    minute, hour, dom, month, dow = c
    return (t.minute in minute and t.hour in hour and t.day in dom and t.month in month
            and (t.isoweekday() % 7) in dow)


def check_window(w: Any) -> None:
    """Validation used by the config model (raises ValueError)."""
    try:
        ZoneInfo(w.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {w.timezone!r}") from None
    for d in w.weekdays:
        _day(d)
    if w.cron is not None:
        parse_cron(w.cron)
        if w.duration is None or not 0 < w.duration <= MAX_CRON_DURATION:
            raise ValueError("a cron window needs a duration (at most 7d)")
        if w.start or w.end:
            raise ValueError("give either cron + duration or start + end, not both")
    else:
        if not (w.start and w.end):
            raise ValueError("give start and end (HH:MM) or cron + duration")
        _hhmm(w.start), _hhmm(w.end)


def active(w: Any, now: float) -> bool:
    tz = ZoneInfo(w.timezone)
    local = datetime.fromtimestamp(now, tz)
    if w.cron is not None:
        spec = parse_cron(w.cron)
        t = local.replace(second=0, microsecond=0)
        for _ in range(int(w.duration // 60) + 1):  # start times within the last `duration`
            if _cron_hit(spec, t) and now - t.timestamp() < w.duration:
                return True
            t = datetime.fromtimestamp(t.timestamp() - 60, tz)
        return False
    start, end = _hhmm(w.start), _hhmm(w.end)
    days = {_day(d) for d in w.weekdays} or set(range(7))
    now_t = local.time()
    if start <= end:
        return local.weekday() in days and start <= now_t < end
    # Crossing midnight: the part after midnight belongs to the previous day's window.
    if now_t >= start:
        return local.weekday() in days
    yesterday = (local - timedelta(days=1)).weekday()
    return now_t < end and yesterday in days
