"""``python app.py report``: the report to a file or stdout; bad input is a usage error naming the parameter."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import app
from tests.report.seed import OFF, recent

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path) -> Path:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"store: {{url: '{recent()}'}}\n"
                   "targets:\n  - {name: self, kind: process, interval: 15s}\n"
                   "promises:\n  objectives:\n" + "".join(f"    - {{id: {i}, enabled: false}}\n" for i in OFF))
    return cfg


def usage_error(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exc:
        app.main(["report", *argv])
    assert exc.value.code == 2
    return capsys.readouterr().err


def test_a_since_that_is_not_a_duration_is_a_usage_error_naming_it(capsys, config):
    err = usage_error(capsys, "--config", str(config), "--since", "a week")
    assert "argument --since: 'a week' is not a duration (use 15s, 5m, 1h)" in err


def test_a_since_shorter_than_an_hour_is_a_usage_error(capsys, config):
    err = usage_error(capsys, "--config", str(config), "--since", "10m")
    assert "argument --since: '10m' is too short: the report needs at least 1h" in err


def test_an_unknown_format_is_a_usage_error_naming_it(capsys, config):
    err = usage_error(capsys, "--config", str(config), "--format", "pdf")
    assert "argument --format: invalid choice: 'pdf'" in err


def test_the_html_report_is_written_to_the_out_file(capsys, config, tmp_path):
    out = tmp_path / "claims.html"
    assert app.main(["report", "--config", str(config), "--since", "3h", "--out", str(out)]) == 0
    page = out.read_text()
    assert page.startswith("<!doctype html>") and "<h2>Payment success</h2>" in page
    assert f"{out}: claims report, last 3h, 3 promises" in capsys.readouterr().err


def test_an_out_file_ending_in_md_gets_markdown(config, tmp_path):
    out = tmp_path / "claims.md"
    assert app.main(["report", "--config", str(config), "--since", "3h", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Claims report: last 3h") and "| Payment success | 98.0 % |" in text


def test_a_store_that_does_not_exist_is_an_error_not_an_empty_report(capsys, tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("store: {url: 'sqlite:///nowhere/lookout.db'}\ntargets:\n  - {name: self, kind: process}\n")
    assert app.main(["report", "--config", str(cfg)]) == 1
    assert "nowhere/lookout.db does not exist" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()


def test_as_a_user_runs_it_markdown_goes_to_stdout(config):
    res = subprocess.run([sys.executable, str(ROOT / "app.py"), "report", "--config", str(config), "--since", "3h",
                          "--format", "md"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("# Claims report: last 3h") and "Charts: text only" in res.stdout
