"""Rendezvous (highest random weight) hashing: which live worker owns a target.

Every worker computes the same answer from the same list of live ids, with no
coordination. Adding a worker moves only the targets it now wins (about 1/n of
them); removing one moves only its own targets, spread over the others.

    >>> owner("db-main", ["w1", "w2", "w3"]) in ("w1", "w2", "w3")
    True
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from functools import lru_cache


@lru_cache(maxsize=65536)
def weight(worker: str, target: str) -> int:
    digest = hashlib.blake2b(f"{worker}\0{target}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner(target: str, workers: Sequence[str]) -> str | None:
    """The worker with the highest weight for ``target``; None without workers."""
    if not workers:
        return None
    return max(workers, key=lambda w: (weight(w, target), w))


def assign(targets: Iterable[str], workers: Sequence[str]) -> dict[str, list[str]]:
    """worker id -> its targets (sorted); every live worker appears, maybe with none."""
    out: dict[str, list[str]] = {w: [] for w in workers}
    for t in targets:
        w = owner(t, workers)
        if w is not None:
            out[w].append(t)
    for ts in out.values():
        ts.sort()
    return out
