"""A small JSON path evaluator: ``$.a.b[0]``, ``a.b.0``, ``$['key.with.dots']``.

Enough for health documents and assertions; no filters, wildcards or slices
(a full JSONPath library would be a large dependency for this).
"""
from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"""\.?([^.\[\]]+)|\[(\d+)\]|\[(['"])(.*?)\3\]""")


class PathError(ValueError):
    pass


_MISSING = object()


def parse(path: str) -> list[str | int]:
    """``$.a.b[0]`` -> ``['a', 'b', 0]``. Raises PathError on bad syntax."""
    rest = path.strip()
    if rest.startswith("$"):
        rest = rest[1:]
    out: list[str | int] = []
    pos = 0
    while pos < len(rest):
        m = _TOKEN.match(rest, pos)
        if not m or m.end() == pos:
            raise PathError(f"bad JSON path {path!r} at {rest[pos:]!r}")
        name, index, _, quoted = m.groups()
        if index is not None:
            out.append(int(index))
        elif quoted is not None:
            out.append(quoted)
        else:
            out.append(name)
        pos = m.end()
    return out


def get(doc: Any, path: str, default: Any = _MISSING) -> Any:
    """Value at ``path``; a missing key raises PathError unless a default is given.

    A bare number segment (``a.0``) indexes lists, so both spellings work.
    """
    cur = doc
    for seg in parse(path):
        if isinstance(cur, list) and (isinstance(seg, int) or (isinstance(seg, str) and seg.isdigit())):
            i = int(seg)
            if i < len(cur):
                cur = cur[i]
                continue
        elif isinstance(cur, dict) and str(seg) in cur:
            cur = cur[str(seg)]
            continue
        if default is not _MISSING:
            return default
        raise PathError(f"path {path!r} not found (stopped at {seg!r})")
    return cur
