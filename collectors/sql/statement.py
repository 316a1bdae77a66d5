"""Is this text ONE read-only statement? Checked at config load.

Comments are stripped and string literals, quoted identifiers and
dollar-quoted bodies blanked first, so a ``;`` or ``delete`` inside them is
not mistaken for SQL. This is the first safety net; the read-only
transaction the collector opens is the second.
"""
from __future__ import annotations

import re

_FIRST = {"select", "with", "values", "table"}
# Words that write, lock or create even inside a SELECT/WITH (data-modifying
# CTEs, SELECT INTO, SELECT ... FOR UPDATE).
# Other writing statements (DROP, COPY, CALL...) cannot start a SELECT at all.
_WRITES = re.compile(r"\b(insert|update|delete|merge|truncate|into|nextval|setval)\b|\bfor\s+(key\s+)?share\b", re.I)
_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def blank(sql: str) -> str:
    """Remove comments; replace literals and quoted identifiers with a neutral token."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c, nxt = sql[i], sql[i + 1] if i + 1 < n else ""
        if c == "-" and nxt == "-":
            end = sql.find("\n", i)
            i = n if end < 0 else end
            out.append(" ")
        elif c == "/" and nxt == "*":
            depth, i = 1, i + 2  # PostgreSQL block comments nest
            while i < n and depth:
                if sql.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif sql.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            if depth:
                raise ValueError("unterminated /* comment")
            out.append(" ")
        elif c in ("'", '"'):
            i = _skip_quoted(sql, i, c)
            out.append(" 0 ")
        elif c == "$" and (m := _DOLLAR.match(sql, i)) and not (i and (sql[i - 1].isalnum() or sql[i - 1] == "_")):
            end = sql.find(m.group(0), m.end())
            if end < 0:
                raise ValueError(f"unterminated dollar-quoted string {m.group(0)}")
            i = end + len(m.group(0))
            out.append(" 0 ")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _skip_quoted(sql: str, i: int, quote: str) -> int:
    j = i + 1
    while j < len(sql):
        if sql[j] == quote:
            if sql[j + 1:j + 2] == quote:  # doubled quote is an escaped quote
                j += 2
                continue
            return j + 1
        j += 1
    raise ValueError(f"unterminated {quote} quote")


def check_read_only(sql: str) -> str:
    """Return the statement without a trailing ``;``, or raise ValueError saying why not."""
    body = blank(sql).strip()
    parts = [p.strip() for p in body.split(";")]
    if len(parts) > 1 and not any(parts[1:]):
        parts = parts[:1]  # one trailing ';' is fine
    parts_nonempty = [p for p in parts if p]
    if not parts_nonempty:
        raise ValueError("the query is empty")
    if len(parts) > 1:
        raise ValueError(f"must be ONE statement, found {len(parts_nonempty)} separated by ';'")
    first = re.match(r"\(*\s*([A-Za-z]+)", parts[0])
    word = first.group(1).lower() if first else ""
    if word not in _FIRST:
        raise ValueError(f"must be a read-only SELECT, WITH, VALUES or TABLE statement, not {word.upper() or '?'}")
    if m := _WRITES.search(parts[0]):
        raise ValueError(f"must be read-only: {m.group(0).upper()} is not allowed")
    return sql.strip()
