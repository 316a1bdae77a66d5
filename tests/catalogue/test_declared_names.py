"""The catalogue against the code, without a server: every metric name a collector writes
as a literal in a ``Sample(...)`` is catalogued, and every catalogued name is in the code.

The live test (test_live_collections.py) sees what one run emits; this one also covers the
branches a test server never reaches (a replica's lag, an expiring certificate).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from collectors.catalogue import Catalogue, builtin

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for p in sorted((ROOT / "collectors").rglob("*.py")) if p.name != "catalogue.py"] + \
    [ROOT / "composition" / "pipeline.py", ROOT / "exporter" / "exposition.py"]


def _first_arg(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == "name"), None)


def sample_names(path: Path) -> tuple[set[str], list[re.Pattern[str]]]:
    """Literal names, and f-string names as patterns, of the Sample(...) calls in a module."""
    literal: set[str] = set()
    patterns: list[re.Pattern[str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Sample"):
            continue
        arg = _first_arg(node)
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            literal.add(arg.value)
        elif isinstance(arg, ast.JoinedStr):
            patterns.append(_fstring(arg))
    return literal, patterns


def _fstring(node: ast.JoinedStr) -> re.Pattern[str]:
    return re.compile("".join(re.escape(v.value) if isinstance(v, ast.Constant) else "[a-z0-9_]+"
                              for v in node.values))


def test_every_literal_sample_name_in_the_collectors_is_catalogued():
    catalogue = Catalogue()
    missing = sorted(f"{path.relative_to(ROOT)}: {name}" for path in SOURCES
                     for name in sample_names(path)[0] if catalogue.lookup(name) is None)
    assert missing == []


def test_every_f_string_sample_name_matches_a_catalogued_name():
    names = [m.name for m in builtin()]
    unmatched = sorted(f"{path.relative_to(ROOT)}: {rx.pattern}" for path in SOURCES
                       for rx in sample_names(path)[1] if not any(rx.fullmatch(n) for n in names))
    assert unmatched == []


def test_every_catalogued_name_is_written_somewhere_in_the_code():
    """A stale hand-written entry (the collector renamed the metric) is caught. A name a table
    builds from a field (``f"redis_{name}"``) is in the code as its part after the prefix."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in SOURCES)
    patterns = [rx for p in SOURCES for rx in sample_names(p)[1]]
    stale = [m.name for m in builtin() if not m.is_pattern and m.name not in text
             and not any(rx.fullmatch(m.name) for rx in patterns)
             and f'"{re.sub(r"^(redis|pg|pgbouncer|lookout)_", "", m.name)}"' not in text]
    assert stale == []


def test_the_scan_finds_literal_and_f_string_names(tmp_path):
    mod = tmp_path / "m.py"
    mod.write_text('Sample("lookout_x_total", 1)\nSample(f"pg_{c}_total", 2)\nSample(name, 3)\n')
    literal, patterns = sample_names(mod)
    assert literal == {"lookout_x_total"}
    assert [p.pattern for p in patterns] == ["pg_[a-z0-9_]+_total"]
