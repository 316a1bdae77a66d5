from __future__ import annotations

from typing import Any

from collectors.http import HttpCollector, HttpTarget
from core.samples import Batch


def target(**kw: Any) -> HttpTarget:
    kw.setdefault("name", "shop")
    kw.setdefault("interval", 20.0)
    kw.setdefault("timeout", 10.0)
    return HttpTarget.model_validate(kw)


def value(batch: Batch, name: str, **labels: str) -> float | None:
    """The value of the one sample with that name whose labels include ``labels``."""
    found = [s.value for s in batch.samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) <= 1, f"{name}{labels} matched {len(found)} samples"
    return found[0] if found else None


def failure(batch: Batch, probe: str) -> tuple[str | None, str | None]:
    doc = batch.documents["probes"][probe]
    return doc["reason"], doc["error"]


def run(t: HttpTarget) -> Batch:
    c = HttpCollector(t)
    try:
        return c.run()
    finally:
        c.close()
