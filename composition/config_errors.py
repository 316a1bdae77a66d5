"""Where a config mistake is, and what it says: the YAML line of every key, and pydantic's
errors turned into ``file:line key: message`` at the key itself, in words a person writing
YAML reads (no validation-library internals).

Used by :mod:`composition.config` while it parses; ``root`` is the model the file validates
against (the root ``Config``), so unknown keys get a did-you-mean from every known key.
"""
from __future__ import annotations

import difflib
import re
from typing import Any

import yaml
from pydantic import ValidationError, model_validator
from pydantic_core import ErrorDetails

from alerts.config import Rule
from collectors.registry import target_models
from core.configmodel import ConfigModel


def format_path(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def walk_lines(node: yaml.Node, path: tuple, lines: dict, problems: list[str], name: str) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            k = key.value
            if k in seen:
                problems.append(f"{name}:{key.start_mark.line + 1} {format_path(path + (k,))}: duplicate key")
            seen.add(k)
            lines[path + (k,)] = key.start_mark.line + 1
            walk_lines(value, path + (k,), lines, problems, name)
            lines[path + (k,)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            walk_lines(item, path + (i,), lines, problems, name)


def _line(lines: dict, path: tuple) -> int | None:
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)


def where(name: str, lines: dict, path: tuple) -> str:
    line = _line(lines, path)
    return f"{name}:{line}" if line else name


_TAG = re.compile(r"^(function-[a-z-]+\[.*\]|[A-Z]\w*|(list|dict|tuple|set)\[.*\]|str|int|float|bool|none)$")


def _data_path(loc: tuple, data: Any) -> tuple:
    """Map a pydantic error location to a path in the YAML data.

    Discriminated unions put the tag into the location
    (``targets.1.postgres.dsn``); drop it so the path reads as written, and so
    for a union member's type (``ratio.numerator.Expr.metric``).
    """
    out: list = []
    cur = data
    for el in loc:
        if isinstance(cur, dict) and el not in cur and cur.get("kind") == el:
            continue
        if isinstance(el, str) and _TAG.match(el) and not (isinstance(cur, dict) and el in cur):
            continue
        out.append(el)
        if isinstance(cur, dict):
            cur = cur.get(el)
        elif isinstance(cur, list) and isinstance(el, int) and el < len(cur):
            cur = cur[el]
        else:
            cur = None
    return tuple(out)


def other_branch(err: ErrorDetails, data: Any) -> bool:
    """An error of the union member the YAML did not mean: `Expr | list[Expr]` given a mapping
    also fails as a list; that half says nothing to the person who wrote the mapping."""
    cur = data
    for el in err["loc"]:
        if isinstance(el, str) and _TAG.match(el) and not (isinstance(cur, dict) and el in cur):
            if (el.startswith(("list[", "tuple[", "set[")) and not isinstance(cur, list)) or \
                    (el[:1].isupper() and not isinstance(cur, dict)):
                return True
            continue
        if isinstance(cur, dict):
            cur = cur.get(el)
        elif isinstance(cur, list) and isinstance(el, int) and el < len(cur):
            cur = cur[el]
        else:
            cur = None
    return False


class _LocatedRule(Rule):
    """A rule validated with each error at its own key: the rule model's wrapper folds them
    into one message at the rule (to name it); here they keep their place and the rule's
    name is put in front of each message instead."""

    @model_validator(mode="wrap")
    @classmethod
    def _name_the_rule(cls, data: Any, handler: Any) -> Any:
        return handler(data)


def rule_errors(err: ErrorDetails, data: dict, lines: dict, name: str,
                root: type[ConfigModel]) -> list[str] | None:
    """A rule's folded error, unfolded: each mistake at the line of its key (a bad `for:` at
    the `for:` line, not the rule's). None when the error is not a rule's."""
    path = _data_path(tuple(err["loc"]), data)
    if err["type"] != "value_error" or len(path) != 3 or path[:2] != ("alerting", "rules"):
        return None
    rules = data.get("alerting", {}).get("rules")
    rule = rules[path[2]] if isinstance(rules, list) and isinstance(path[2], int) else None
    if not isinstance(rule, dict):
        return None
    try:
        _LocatedRule.model_validate(rule, context={"from_file": True})
    except ValidationError as exc:
        label = f"rule {rule.get('name')!r}: " if rule.get("name") else ""
        inner = [e for e in exc.errors() if not other_branch(e, rule)] or exc.errors()
        out = []
        for e in inner:
            moved: Any = {**e, "loc": path + tuple(e["loc"])}
            place, _, msg = format_error(moved, data, lines, name, root).partition(": ")
            out.append(f"{place}: {label}{msg}")
        return out
    return None


def _known_keys(root: type[ConfigModel]) -> set[str]:
    keys: set[str] = set()
    stack: list[type[ConfigModel]] = [root, *target_models()]
    seen: set[type[ConfigModel]] = set()
    while stack:
        m = stack.pop()
        if m in seen:
            continue
        seen.add(m)
        for fname, f in m.model_fields.items():
            keys.add(fname)
            ann = f.annotation
            if isinstance(ann, type) and issubclass(ann, ConfigModel):
                stack.append(ann)
    return keys


def format_error(err: ErrorDetails, data: dict, lines: dict, name: str, root: type[ConfigModel]) -> str:
    path = _data_path(tuple(err["loc"]), data)
    msg = err["msg"]
    kind = err["type"]
    if kind == "extra_forbidden":
        key = path[-1] if path else "?"
        close = difflib.get_close_matches(str(key), sorted(_known_keys(root)), n=1)
        msg = f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
    elif kind == "missing":
        msg = "required key is missing"
    elif kind in ("union_tag_not_found", "union_tag_invalid"):
        kinds = ", ".join(sorted(t.model_fields["kind"].default for t in target_models()))
        got = err.get("input", {}).get("kind") if isinstance(err.get("input"), dict) else None
        msg = (f"unknown kind {got!r} (one of: {kinds})" if got is not None
               else f"required key 'kind' is missing (one of: {kinds})")
        if got is not None:
            path = path + ("kind",)
    else:
        msg = _PLAIN.get(kind, msg.removeprefix("Value error, "))
        if kind == "list_type" and path and path[-1] in ("by", "dependents", "labels_by"):
            msg = f"must be a list of names, e.g. `{path[-1]}: [target]`"
        msg = msg.replace("Input should be", "must be").replace("String should match pattern", "must match")
        if "input" in err and not isinstance(err["input"], (dict, list)) and kind not in ("value_error",):
            msg += f" (got {err['input']!r})"
    return f"{where(name, lines, path)} {format_path(path)}: {msg}"


# pydantic's wording of the common type errors, as a person writing YAML reads them.
_PLAIN = {
    "list_type": "must be a list, e.g. [a, b]",
    "dict_type": "must be a mapping (key: value)",
    "model_type": "must be a mapping (key: value)",
    "model_attributes_type": "must be a mapping (key: value)",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
}
