"""Maps ``kind:`` in config to its collector class and target model.

A kind module exposes one Collector subclass and one TargetBase subclass;
add it to ``_MODULES`` as ``kind: (module, collector class, target class)``.
"""
from __future__ import annotations

import importlib
from functools import cache

from collectors.base import Collector
from core.targets import TargetBase

_MODULES: dict[str, tuple[str, str, str]] = {
    "process": ("collectors.process", "ProcessCollector", "ProcessTarget"),
    "postgres": ("collectors.postgres", "PostgresCollector", "PostgresTarget"),
    "pool": ("collectors.pool", "PoolCollector", "PoolTarget"),
    "http": ("collectors.http", "HttpCollector", "HttpTarget"),
    "redis": ("collectors.redis", "RedisCollector", "RedisTarget"),
    "sql": ("collectors.sql", "SqlCollector", "SqlTarget"),
}


@cache
def kinds() -> dict[str, tuple[type[Collector], type[TargetBase]]]:
    out = {}
    for kind, (module, coll, tgt) in _MODULES.items():
        mod = importlib.import_module(module)
        out[kind] = (getattr(mod, coll), getattr(mod, tgt))
    return out


def collector_for(target: TargetBase, **kw) -> Collector:
    cls, _ = kinds()[target.kind]
    return cls(target, **kw)


def target_models() -> list[type[TargetBase]]:
    return [t for _, t in kinds().values()]
