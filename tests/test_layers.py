"""The import rules of docs/architecture.md, checked on every module of the product.

- the kernel (core/) imports nothing of the project;
- store/ and collectors/ import only the kernel;
- only the entry points (app.py, wsgi.py, bench/, scripts/, tests/) import the
  composition package;
- a capability's tables are read by the capability alone: nothing outside
  store/ imports ``store.schema``, nothing outside alerts/ imports the alert
  or notification schema.

Imports inside functions and under ``if TYPE_CHECKING:`` count too: a type
that crosses a layer is an arrow all the same.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINTS = {"app", "wsgi", "bench", "scripts", "tests"}
NOT_PRODUCT = {"tests", "bench", "scripts", "docs", "deploy"}
ONLY = {"core": set(), "store": {"core"}, "collectors": {"core"}}
PRIVATE = {"store.schema": "store", "alerts.schema": "alerts", "alerts.notify.schema": "alerts"}


def packages() -> set[str]:
    return {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()} | {p.stem for p in ROOT.glob("*.py")}


def imports(path: Path) -> list[tuple[str, set[str], int]]:
    """(module, the dotted names it reaches, line) of every absolute import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, {a.name}, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from store import schema` reaches store.schema as much as `import store.schema`
            out.append((node.module, {node.module, *(f"{node.module}.{a.name}" for a in node.names)}, node.lineno))
    return out


def breaks(root: Path, composition: str = "composition") -> list[str]:
    pkgs = {p.name for p in root.iterdir() if (p / "__init__.py").exists()} | {p.stem for p in root.glob("*.py")}
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0].startswith("."):
            continue
        top = rel.parts[0] if len(rel.parts) > 1 else path.stem
        for name, reached, line in imports(path):
            dep = name.split(".")[0]
            if dep not in pkgs or dep == top:
                continue
            where = f"{rel}:{line} imports {name}"
            if top in ONLY and dep not in ONLY[top]:
                found.append(f"{where}: {top}/ may import only {sorted(ONLY[top]) or 'nothing of the project'}")
            if dep == composition and top not in ENTRY_POINTS:
                found.append(f"{where}: only {sorted(ENTRY_POINTS)} may import the composition package")
            for private in sorted(reached & PRIVATE.keys()):
                owner = PRIVATE[private]
                if top != owner and top not in NOT_PRODUCT:
                    found.append(f"{where}: {owner}/'s tables are read through {owner}/'s query functions")
    return found


def test_the_product_keeps_the_layering():
    assert breaks(ROOT) == []


def test_every_rule_can_fail(tmp_path):
    """A tree that breaks each rule once is reported once per break."""
    files = {
        "core/__init__.py": "",
        "core/bad.py": "from store import Store\n",
        "store/__init__.py": "import collectors.base\n",
        "store/schema.py": "",
        "collectors/__init__.py": "",
        "collectors/base.py": "def f():\n    from composition.runtime import Runtime\n",
        "composition/__init__.py": "",
        "composition/runtime.py": "",
        "dashboards/__init__.py": "from store import schema\n",
        "app.py": "import composition.runtime\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = breaks(tmp_path)
    assert [f.split(":")[0] for f in found] == [
        "collectors/base.py", "collectors/base.py", "core/bad.py", "dashboards/__init__.py", "store/__init__.py"]
    assert any("only ['app'" in f for f in found)
    assert any("store/'s tables" in f for f in found)


@pytest.mark.parametrize("package", sorted(ONLY))
def test_each_layered_package_exists(package):
    # A rename would otherwise make its rule check nothing.
    assert package in packages()
