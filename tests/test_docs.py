"""The docs stay navigable: every link and every file path they name exists.

A newcomer follows README.md into docs/; a link to a moved file, an anchor
that was renamed, or a path such as ``core/config.py`` that no longer exists
sends them nowhere. These tests read README.md and docs/*.md as text.
"""
from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SKIP_DIRS = {".git", ".venv", "__pycache__", "node_modules"}
# Files an example asks the reader to create (docs/extending.md's new collector kind).
PROPOSED = {"collectors/tcp.py"}

_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
# A repo-relative path: segments joined by /, not part of a URL, an absolute path or a host name.
_PATH = re.compile(r"(?<![\w./:@~$%-])((?:[A-Za-z0-9_.-]+/)+[A-Za-z0-9_.-]*)")
# A bare file name such as DESIGN.md or soak.py.
_BARE = re.compile(r"(?<![\w./:@~$%-])([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.(?:md|py|sh|yaml|yml|toml|ini))\b(?![/\w])")


def _ignored_top_names(root: Path) -> set[str]:
    """Top-level folders .gitignore keeps out of the repo (data/, artifacts/): made at run time."""
    gitignore = root / ".gitignore"
    lines = gitignore.read_text().splitlines() if gitignore.exists() else []
    return {line.strip("/") for line in lines if line.startswith("/") and line.rstrip().endswith("/")}


@functools.cache
def repo_files(root: Path) -> tuple[set[str], set[str]]:
    """(every file path, every folder path) of the checkout, relative, with / separators."""
    ignored = _ignored_top_names(root)
    files: set[str] = set()
    dirs: set[str] = set()
    for here, subdirs, names in os.walk(root):
        rel = Path(here).relative_to(root)
        top = rel == Path(".")
        subdirs[:] = [d for d in subdirs if d not in SKIP_DIRS and not (top and (d in ignored or d.startswith(".")))]
        dirs.update((rel / d).as_posix() for d in subdirs)
        files.update((rel / n).as_posix() for n in names if not (top and n.startswith(".")))
    return files, dirs


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]|<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    in_fence = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        m = re.match(r"^(#{1,6})\s+(.*)$", line)
        if m and not in_fence:
            base = slug(m.group(2))
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken_links(doc: Path, root: Path = ROOT) -> list[str]:
    text = doc.read_text(encoding="utf-8")
    found = []
    for target in _LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (doc.parent / path).resolve() if path else doc
        if not dest.exists():
            found.append(f"{doc.relative_to(root)}: link to {target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest.read_text(encoding="utf-8")):
            found.append(f"{doc.relative_to(root)}: link to {target}: no heading #{anchor} there")
    return found


def missing_paths(doc: Path, root: Path = ROOT) -> list[str]:
    """Paths the text names (``core/samples.py``, ``DESIGN.md``) that the checkout does not have."""
    files, dirs = repo_files(root)
    top = {p.split("/")[0] for p in files | dirs}
    basenames = {p.rsplit("/", 1)[-1] for p in files}
    text = _LINK.sub(" ", doc.read_text(encoding="utf-8"))  # links are checked by broken_links
    found = []
    for raw in _PATH.findall(text):
        path = raw.rstrip(".,;:")
        if path.split("/")[0] not in top:
            continue  # not a repo path: a URL path, a folder made at run time (data/, artifacts/)
        if path.rstrip("/") in files | dirs | PROPOSED or _names_an_attribute(root, path, files):
            continue
        found.append(f"{doc.relative_to(root)}: names {path}, which does not exist")
    for name in _BARE.findall(text):
        if name not in basenames:
            found.append(f"{doc.relative_to(root)}: names {name}, which is nowhere in the repo")
    return found


def _names_an_attribute(root: Path, path: str, files: set[str]) -> bool:
    """``collectors/base._call_with_timeout``: a module's function, which must still be in it."""
    module, _, name = path.rpartition(".")
    return f"{module}.py" in files and bool(re.search(rf"\b{re.escape(name)}\b", (root / f"{module}.py").read_text()))


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file_that_exists(doc):
    assert broken_links(doc) == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_doc_names_a_file_that_does_not_exist(doc):
    assert missing_paths(doc) == []


def test_the_checks_catch_a_stale_path_a_missing_file_and_a_renamed_heading(tmp_path):
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "samples.py").write_text("")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# Real heading\n")
    doc = tmp_path / "README.md"
    doc.write_text("See `core/config.py` and DESIGN.md, but `core/samples.py` is fine.\n"
                   "[gone](docs/b.md), [renamed](docs/a.md#old-heading), [fine](docs/a.md#real-heading),\n"
                   "https://example.com/core/config.py and /api/health are not repo paths.\n")
    assert missing_paths(doc, tmp_path) == ["README.md: names core/config.py, which does not exist",
                                            "README.md: names DESIGN.md, which is nowhere in the repo"]
    assert broken_links(doc, tmp_path) == ["README.md: link to docs/b.md: no such file",
                                           "README.md: link to docs/a.md#old-heading: no heading #old-heading there"]


def _generated(text: str) -> str:
    return text[text.index("<!-- config-reference:begin"):text.index("<!-- config-reference:end")]


def _reference_rows(text: str) -> list[list[str]]:
    """The cells of every key row of the generated tables (a cell may hold an escaped \\|)."""
    rows = [line for line in _generated(text).splitlines() if re.match(r"^\| `[^`]+` \|", line)]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]] for row in rows]


def test_every_documented_configuration_key_has_a_meaning():
    rows = _reference_rows((ROOT / "docs" / "configuration.md").read_text(encoding="utf-8"))
    assert len(rows) > 100
    assert all(len(r) == 4 for r in rows)
    assert [key for key, _type, _default, meaning in rows if not meaning] == []


def test_each_key_of_the_root_config_appears_once_as_yaml_spells_it():
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    # Target kinds may share key names (`url` of redis and sql); the root config's paths are unique.
    keys = [r[0] for r in _reference_rows(text[:text.index("### Every target")] + "<!-- config-reference:end")]
    assert len(keys) == len(set(keys)), sorted({k for k in keys if keys.count(k) > 1})
    assert "`alerting.rules[].for`" in keys and "`alerting.notifications.routes[].continue`" in keys
    assert not [k for k in keys if k.rstrip("`").endswith("_")]


def test_the_readme_stays_a_front_page():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 200
