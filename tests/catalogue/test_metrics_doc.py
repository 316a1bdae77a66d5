"""docs/metrics.md is the catalogue: generated from it, and kept in sync by this test."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from collectors.catalogue import builtin

ROOT = Path(__file__).resolve().parents[2]


def test_docs_metrics_md_is_the_catalogue_as_generated():
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "metrics_reference.py"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr


def test_every_catalogued_metric_has_a_row_in_docs_metrics_md():
    text = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    missing = [m.name for m in builtin() if f"| `{m.name}` |" not in text]
    assert missing == []
