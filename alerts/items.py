"""``{items}`` in an alert's annotations: the findings behind a count, by name.

A count such as ``lookout_pg_duplicate_indexes`` says how many, not which. A rule
names the collector document that lists them, and its messages can list the first
few::

    - name: pg_duplicate_indexes
      expr: {metric: lookout_pg_duplicate_indexes, agg: last, window: 15m}
      warning: 0
      items: {document: pg_index_audit, kind: duplicate, limit: 5}
      annotations:
        summary: "{value} duplicate index(es) in {labels[datname]} on {labels[target]}: {items}"

    -> "1 duplicate index(es) in shop on shop-db: shop.public.orders_status_idx2 on orders
        (8.0 KiB, 0 scans) duplicates orders_status_idx"

The items come from the document of the alert's ``target``, and of its ``datname``
when the series has one (a rule summed ``by: [target]`` lists every database's).
Only the documents in :data:`DOCUMENTS` can be named: each knows its shape and how
one of its items reads, so a misspelt document or kind is refused at config load.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import Field, field_validator, model_validator

from core.configmodel import ConfigModel
from core.units import format_value


def _where(i: Mapping[str, Any], name: str) -> str:
    return ".".join(str(p) for p in (i.get("datname"), i.get("schemaname"), i.get(name)) if p)


def _size_scans(i: Mapping[str, Any]) -> str:
    size = i.get("size_bytes")
    scans = i.get("idx_scan")
    parts = [format_value(float(size), "bytes") if isinstance(size, int | float) else None,
             f"{format_value(float(scans), 'count')} scans" if isinstance(scans, int | float) else None]
    shown = [p for p in parts if p]
    return f" ({', '.join(shown)})" if shown else ""


def _index(i: Mapping[str, Any]) -> str:
    line = f"{_where(i, 'index')} on {i.get('table') or '?'}{_size_scans(i)}"
    if i.get("covered_by"):
        line += f" duplicates {i['covered_by']}"
    return line


def _sequence(i: Mapping[str, Any]) -> str:
    used = i.get("used_ratio")
    return _where(i, "sequencename") + (f" at {format_value(float(used), 'ratio')} of its range"
                                         if isinstance(used, int | float) else "")


@dataclass(frozen=True)
class ItemDocument:
    """A document whose items a message can list: its kinds (None: a plain list) and one item's line."""

    kinds: tuple[str, ...] | None
    line: Callable[[Mapping[str, Any]], str]
    per_database: bool = True  # {datname: body}, as the PostgreSQL collector's per-database families


DOCUMENTS: dict[str, ItemDocument] = {
    "pg_index_audit": ItemDocument(("duplicate", "unused", "invalid"), _index),
    "pg_sequences": ItemDocument(None, _sequence),
}


class ItemsSpec(ConfigModel):
    """Which document's items ``{items}`` lists in the rule's annotations."""

    document: str = Field(description=f"The collector document: {', '.join(sorted(DOCUMENTS))}.")
    kind: str | None = Field(None, description=(
        "Which list of the document: pg_index_audit has duplicate, unused and invalid; pg_sequences "
        "has none."))
    limit: int = Field(5, ge=1, le=50, description="List at most this many; the rest read \"and N more\".")

    @field_validator("document")
    @classmethod
    def _known_document(cls, v: str) -> str:
        if v not in DOCUMENTS:
            raise ValueError(f"unknown document {v!r} (known: {', '.join(sorted(DOCUMENTS))})")
        return v

    @model_validator(mode="after")
    def _known_kind(self) -> ItemsSpec:
        kinds = DOCUMENTS[self.document].kinds
        if kinds is None and self.kind is not None:
            raise ValueError(f"kind {self.kind!r}: {self.document} has no kinds, leave kind out")
        if kinds is not None and self.kind not in kinds:
            got = "kind is missing" if self.kind is None else f"kind {self.kind!r} is unknown"
            raise ValueError(f"{got}: {self.document} has {', '.join(kinds)}")
        return self


class DocumentLike(Protocol):
    """A stored document (store.Document) as far as items go."""

    @property
    def target(self) -> str: ...

    @property
    def body(self) -> Any: ...


def select(spec: ItemsSpec, labels: Mapping[str, str], docs: Iterable[DocumentLike]) -> list[Mapping[str, Any]] | None:
    """The items of ``docs`` for a series with ``labels``; None when no document says anything yet."""
    doc = DOCUMENTS[spec.document]
    target, datname = labels.get("target"), labels.get("datname")
    found = False
    out: list[Mapping[str, Any]] = []
    for d in sorted(docs, key=lambda d: d.target):
        if target and d.target != target:
            continue
        parts: list[tuple[str | None, Any]] = [(None, d.body)]
        if doc.per_database and isinstance(d.body, dict):
            parts = [(k, d.body[k]) for k in sorted(d.body) if not datname or k == datname]
        for dat, body in parts:
            listed = body.get(spec.kind) if spec.kind and isinstance(body, dict) else body
            if isinstance(listed, list):
                found = True
                out += [{"datname": dat, **i} if dat else i for i in listed if isinstance(i, dict)]
    return out if found else None


def render(spec: ItemsSpec, labels: Mapping[str, str], docs: Iterable[DocumentLike]) -> str:
    """``{items}``: the first ``limit`` items' lines joined by "; ", the rest counted."""
    items = select(spec, labels, docs)
    if items is None:
        return f"(no {spec.document} reported yet)"
    if not items:
        return "none"
    lines = [DOCUMENTS[spec.document].line(i) for i in items[: spec.limit]]
    more = len(items) - spec.limit
    return "; ".join(lines) + (f" (and {more} more)" if more > 0 else "")
