"""Silences: label matchers over a time span, with author and comment.

A silence mutes the events of the alerts it matches while ``starts_at <= now
< ends_at``; it expires by itself at ``ends_at``. Expiring one early (DELETE
in the API) moves ``ends_at`` to now and records ``expired_at``.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from alerts.matchers import Matcher, all_match, parse_matchers
from alerts.schema import silences
from store.engine import Writer

_MATCHERS = TypeAdapter(list[Matcher])


@dataclass(frozen=True)
class Silence:
    id: int
    matchers: list[Matcher]
    starts_at: float
    ends_at: float
    author: str
    comment: str
    created_at: float
    expired_at: float | None

    def active(self, now: float) -> bool:
        return self.starts_at <= now < self.ends_at

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all_match(self.matchers, labels)

    def as_json(self, now: float) -> dict[str, Any]:
        status = "active" if self.active(now) else "pending" if now < self.starts_at else "expired"
        return {"id": self.id, "matchers": [m.model_dump() for m in self.matchers], "starts_at": self.starts_at,
                "ends_at": self.ends_at, "author": self.author, "comment": self.comment,
                "created_at": self.created_at, "expired_at": self.expired_at, "status": status}


def parse(matchers: Any) -> list[Matcher]:
    """Validates matchers from JSON ({label: value} or ["label=~re"] or [{name, op, value}])."""
    got = _MATCHERS.validate_python(parse_matchers(matchers))
    if not got:
        raise ValueError("a silence needs at least one matcher")
    if all(m.op in ("=~", "!~") and m.value in (".*", "") for m in got):
        raise ValueError("a silence must not match every alert")
    return got


def create(writer: Writer, matchers: Sequence[Matcher], starts_at: float, ends_at: float, author: str,
           comment: str, now: float) -> int:
    if ends_at <= starts_at:
        raise ValueError("ends_at must be after starts_at")
    if ends_at <= now:
        raise ValueError("ends_at is in the past")
    if not author.strip() or not comment.strip():
        raise ValueError("author and comment are required")
    with writer.begin() as conn:
        res = conn.execute(silences.insert().values(
            matchers=json.dumps([m.model_dump() for m in matchers]), starts_at=starts_at, ends_at=ends_at,
            author=author, comment=comment, created_at=now).returning(silences.c.id))
        return int(res.scalar_one())


def expire(writer: Writer, silence_id: int, now: float) -> bool:
    """End a silence now; False if there is none with that id or it already ended."""
    with writer.begin() as conn:
        res = conn.execute(update(silences).where(silences.c.id == silence_id, silences.c.ends_at > now)
                           .values(ends_at=now, expired_at=now))
        return res.rowcount == 1


def silence_from_row(r: Any) -> Silence:
    return Silence(id=r.id, matchers=_MATCHERS.validate_python(json.loads(r.matchers)), starts_at=r.starts_at,
                   ends_at=r.ends_at, author=r.author, comment=r.comment, created_at=r.created_at,
                   expired_at=r.expired_at)


def list_silences(conn: Connection, include_expired: bool, now: float) -> list[Silence]:
    q = select(silences).order_by(silences.c.id)
    if not include_expired:
        q = q.where(silences.c.ends_at > now)
    return [silence_from_row(r) for r in conn.execute(q)]


def active(conn: Connection, now: float) -> list[Silence]:
    return [s for s in list_silences(conn, False, now) if s.active(now)]


def first_match(active_silences: Sequence[Silence], labels: Mapping[str, str]) -> Silence | None:
    return next((s for s in active_silences if s.matches(labels)), None)
