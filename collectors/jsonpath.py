"""The one JSON path dialect of Lookout: RFC 9535 JSONPath, plus plain dotted paths.

Every mapping (health documents, pool fields, JSON assertions) reads paths
through this module, so one spelling works everywhere::

    $.checks.database.status      $.items[0].id      $['key.with.dots']
    checks.database.status        items.0.id         items[0].id

Parsing and evaluation are python-jsonpath's (RFC 9535, non-strict mode, so a
path may omit the leading ``$``, and ``[0]`` also reads a key ``"0"`` of an
object). What is added here: a bare number segment (``items.0``) means the index
``[0]``, as the hand-written dialect Lookout had before; a path is parsed once
and cached; a malformed path raises :class:`PathError` naming the path and the
position; and :func:`get` answers one value, or the list of matches of a
query that can match several (``$.checks[*]``, ``$..status``, filters).

Also here: ``PathText``, the config field type that checks a path at load, and
:class:`Misses`, how a collector reports a path that matched nothing.

Example::

    >>> get({"pool": {"totalCount": 10}}, "$.pool.totalCount")
    10
    >>> get({"pool": {"totalCount": 10}}, "pool.idleCount", None) is None
    True
"""
from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from typing import Annotated, Any

import jsonpath as _lib
from jsonpath.exceptions import JSONPathError
from jsonpath.path import JSONPath
from pydantic import AfterValidator

from core.samples import Sample

_MISSING = object()
_ENV = _lib.JSONPathEnvironment(strict=False)
# A dotted segment that is all digits (".0", "..0", or "0" opening a plain path): an index.
_DOTTED_INDEX = re.compile(r"(\.\.|\.|^)(\d+)(?=\.|\[|$)")
_CACHE_SIZE = 1024


class PathError(ValueError):
    """A malformed path (from :func:`parse`) or, from :func:`get` without a default, a path that matched nothing."""


class Path:
    """A parsed path: ``find(doc)`` lists every match, ``singular`` says at most one can match."""

    __slots__ = ("_compiled", "singular", "text")

    def __init__(self, text: str, compiled: Any) -> None:
        self.text = text
        self._compiled = compiled
        self.singular = isinstance(compiled, JSONPath) and compiled.singular_query()

    def find(self, doc: Any) -> list[Any]:
        return list(self._compiled.findall(doc))

    def __repr__(self) -> str:
        return f"Path({self.text!r})"


def _outside_brackets(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into (chunk, is_outside_brackets), quotes inside brackets respected."""
    parts: list[tuple[str, bool]] = []
    start, depth, quote, i = 0, 0, "", 0
    while i < len(text):
        c = text[i]
        if depth == 0:
            if c == "[":
                parts.append((text[start:i], True))
                start, depth = i, 1
        elif quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                parts.append((text[start:i + 1], False))
                start = i + 1
        i += 1
    parts.append((text[start:], depth == 0))
    return parts


def _normalise(text: str) -> str:
    """Plain dotted paths into JSONPath: ``a.b.0`` -> ``$.a.b[0]``."""
    out = []
    for n, (chunk, outside) in enumerate(_outside_brackets(text)):
        if outside:
            chunk = _DOTTED_INDEX.sub(functools.partial(_index, first=n == 0), chunk)
        out.append(chunk)
    joined = "".join(out)
    if joined.startswith("$"):
        return joined
    # A root-less path: "$." first, so a leading name such as "true" or "in" is a name, not a keyword.
    return "$" + joined if joined.startswith("[") else "$." + joined


def _index(m: re.Match[str], first: bool) -> str:
    dots, digits = m.group(1), m.group(2)
    if not dots and not first:
        return m.group(0)  # digits right after a bracket ("[0]1"): leave them for the parser to reject
    return f"{'..' if dots == '..' else ''}[{digits}]"


@functools.lru_cache(maxsize=_CACHE_SIZE)
def parse(text: str) -> Path:
    """Parse ``text`` once; raises :class:`PathError` naming the path and what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise PathError(f"JSON path {text!r} is empty (use $ for the whole document)")
    stripped = text.strip()
    try:
        compiled = _ENV.compile(_normalise(stripped))
    except JSONPathError as exc:
        raise PathError(_describe(stripped, exc)) from None
    return Path(stripped, compiled)


def _describe(text: str, exc: JSONPathError) -> str:
    what = str(exc.message if exc.message is not None else "syntax error")
    token = exc.token
    where = ""
    if token is not None and token.value and token.value in text and repr(token.value) not in what:
        where = f" at {token.value!r}"
    elif token is not None and token.value == "":
        where = " at the end"
    return f"malformed JSON path {text!r}: {what}{where} (write $.a.b[0] or a.b.0; quote odd keys as $['a.b'])"


def find(doc: Any, path: str) -> list[Any]:
    """Every value ``path`` matches in ``doc`` (empty: it matched nothing)."""
    return parse(path).find(doc)


def get(doc: Any, path: str, default: Any = _MISSING) -> Any:
    """The value at ``path``: one value for a singular path, the list of matches otherwise.

    A path that matches nothing raises :class:`PathError` unless a default is given.
    """
    p = parse(path)
    found = p.find(doc)
    if found:
        return found[0] if p.singular else found
    if default is not _MISSING:
        return default
    raise PathError(f"path {p.text!r} matched nothing{_stopped_at(doc, p)}")


def _stopped_at(doc: Any, p: Path) -> str:
    """`` (no 'd' under $.a)``: where a singular path stopped matching, for the error."""
    if not p.singular:
        return ""
    compiled = p._compiled
    for n in range(len(compiled.segments) - 1, 0, -1):
        prefix = JSONPath(env=_ENV, segments=compiled.segments[:n], pseudo_root=False)
        if prefix.findall(doc):
            return f" (no {str(compiled.segments[n])[1:-1]} under {prefix})"
    return f" (no {str(compiled.segments[0])[1:-1]} at the top)" if compiled.segments else ""


def validate(text: str) -> str:
    """For pydantic validators: ``text`` if it parses, else ValueError with the reason."""
    parse(text)
    return text


# A config field holding a JSON path: a malformed one is a config error at its key.
PathText = Annotated[str, AfterValidator(validate)]

MISSES_METRIC = "lookout_mapping_misses_total"
MISSES_HELP = ("Answers in which a configured JSON path (or, for a Prometheus pool source, a metric name) "
               "matched nothing, since Lookout started.")


class Misses:
    """Counts, per (probe, path), the answers in which a configured path matched nothing.

    Silence is the failure this exists for: a path that matches nothing gives no
    series and, without this, no sign. Each miss counts; the log gets one line when
    a path starts missing and one when it matches again, never one a poll.
    A path's counter appears (at 0) the first time the path is looked up.
    """

    def __init__(self, target: str, log: logging.Logger, noun: str = "probe") -> None:
        self.target, self.log, self.noun = target, log, noun
        self.counts: dict[tuple[str, str], int] = {}
        self.missing: set[tuple[str, str]] = set()

    def seen(self, probe: str, path: str, matched: bool, detail: str = "") -> None:
        key = (probe, path)
        self.counts[key] = self.counts.get(key, 0) + (0 if matched else 1)
        if not matched and key not in self.missing:
            self.missing.add(key)
            self.log.warning("target %s, %s %s: path %r matched nothing in the answer%s "
                             "(logged once until it matches again; counted in %s)", self.target, self.noun, probe,
                             path, f" {detail}" if detail else "", MISSES_METRIC)
        elif matched and key in self.missing:
            self.missing.discard(key)
            self.log.info("target %s, %s %s: path %r matches again", self.target, self.noun, probe, path)

    def seen_all(self, probe: str, checked: Iterable[str], missed: Iterable[str]) -> None:
        missed = set(missed)
        for path in checked:
            self.seen(probe, path, path not in missed)

    def samples(self) -> list[Sample]:
        return [Sample(MISSES_METRIC, float(n), {"probe": probe, "path": path}, "counter", help=MISSES_HELP)
                for (probe, path), n in self.counts.items()]
