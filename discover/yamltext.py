"""Values as hand-written YAML: PyYAML writes (and quotes) the values, we choose the layout."""
from __future__ import annotations

from typing import Any

import yaml


def flow(value: Any) -> str:
    """One value in YAML flow style: ``{a: 1}``, ``[x, y]``, ``'5..'``."""
    text = yaml.safe_dump([value], default_flow_style=True, width=10_000, sort_keys=False).strip()
    return text[1:-1]


def block(items: list[dict[str, Any]], indent: int, width: int = 118) -> list[str]:
    """A list of mappings as hand-written YAML: a key per line, a nested value in flow style when
    it fits on the line, else a block of its own."""
    out: list[str] = []
    for item in items:
        out += _mapping(item, indent + 2, width, first=" " * indent + "- ")
    return out


def _mapping(value: dict[str, Any], indent: int, width: int, first: str | None = None) -> list[str]:
    out: list[str] = []
    for i, (key, v) in enumerate(value.items()):
        lead = first if (first is not None and i == 0) else " " * indent
        line = f"{lead}{key}: {flow(v)}"
        if len(line) <= width or not isinstance(v, (dict, list)) or not v:
            out.append(line)
        elif isinstance(v, dict):
            out += [f"{lead}{key}:", *_mapping(v, indent + 2, width)]
        else:
            out.append(f"{lead}{key}:")
            for e in v:
                out += (_mapping(e, indent + 4, width, first=" " * (indent + 2) + "- ") if isinstance(e, dict)
                        else [f"{' ' * (indent + 2)}- {flow(e)}"])
    return out
