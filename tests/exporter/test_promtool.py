"""``promtool check metrics`` on the 0.0.4 body.

promtool (Debian package ``prometheus``) is required: CI installs it, and a
missing promtool fails these tests instead of skipping them. It exits 0 when
clean, 3 when the lint finds problems (printed on stderr) and 1 when the
text does not parse; we require 0 and an empty stderr. (promtool only reads
the text format, so the OpenMetrics body is checked with the parser tests.)
"""
from __future__ import annotations

import shutil
import subprocess

import pytest

from core.samples import Sample
from exporter.snapshot import Snapshot

from .conftest import target_samples
from .test_snapshot import tricky_samples


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is not installed (apt-get install prometheus)")
    return path


def check_metrics(promtool: str, body: bytes) -> subprocess.CompletedProcess:
    return subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, timeout=30)


def test_promtool_finds_no_problem_in_our_text_output(promtool):
    snap = Snapshot()
    for i in range(3):
        snap.update(f"db{i}", target_samples(f"db{i}") + tricky_samples(f"db{i}"))
    snap.update("odd", [Sample("gauge_named_total", 1.0), Sample("bad-name", 1.0),
                        Sample("shared_name", 1.0, help="Conflicts with the counter below."),
                        Sample("shared_name_total", 1.0, kind="counter")])

    result = check_metrics(promtool, snap.body(False))

    assert (result.returncode, result.stderr.decode(), result.stdout.decode()) == (0, "", "")


def test_promtool_reports_lint_problems_with_exit_code_3(promtool):
    # Guards the test above: what we would have written without the naming rules.
    result = check_metrics(promtool, b"# HELP pg_stat_database_blks_hit x\n"
                                     b"# TYPE pg_stat_database_blks_hit counter\n"
                                     b"pg_stat_database_blks_hit 1\n")

    assert result.returncode == 3
    assert b'counter metrics should have "_total" suffix' in result.stderr
