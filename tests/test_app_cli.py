"""app.py as a user runs it: check-config, serve, and stop on a signal."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[1]


def run_app(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "app.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def test_check_config_accepts_the_shipped_config():
    res = run_app("check-config")
    assert res.returncode == 0, res.stderr
    assert "OK" in res.stdout


def test_check_config_reports_mistakes_without_a_traceback(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("targets:\n  - name: self\n    kind: process\n    interval: 5 minutes\n"
                   "  - name: self\n    kind: process\n")
    res = run_app("check-config", "--config", str(cfg))
    assert res.returncode == 1
    assert f"{cfg}:4 targets[0].interval: '5 minutes' is not a duration (use 15s, 5m, 1h)" in res.stderr
    assert "duplicate target name 'self'" in res.stderr
    assert "Traceback" not in res.stderr


def test_a_missing_config_file_is_one_clear_line(tmp_path):
    res = run_app("check-config", "--config", str(tmp_path / "nope.yaml"))
    assert res.returncode == 1 and "cannot read config" in res.stderr and "Traceback" not in res.stderr


def test_the_app_serves_health_and_metrics_and_stops_cleanly_on_sigterm(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("store: {url: 'sqlite:///data/lookout.db'}\n"
                   "targets:\n  - {name: self, kind: process, interval: 1s}\n")
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--config", str(cfg), "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 30
        body = None
        while time.time() < deadline:
            try:
                res = requests.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
                body = res.json()
                if body["status"] == "pass":
                    break
            except requests.RequestException:
                pass
            time.sleep(0.3)
        assert body is not None and body["status"] == "pass", body
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert 'lookout_target_up{target="self",kind="process"} 1' in metrics
        assert (tmp_path / "data" / "lookout.db").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "scheduler stopped" in err


def test_metrics_prints_the_catalogue_as_a_table_and_as_json_for_one_kind():
    res = run_app("metrics")
    assert res.returncode == 0, res.stderr
    assert "lookout_pool_utilization_ratio" in res.stdout and "redis_keyspace_hits_total" in res.stdout
    assert "shop_payments_total" in res.stdout  # the shipped config's SQL query joins the catalogue
    res = run_app("metrics", "--kind", "postgres", "--json")
    assert res.returncode == 0, res.stderr
    rows = __import__("json").loads(res.stdout)
    assert {r["kind"] for r in rows} == {"postgres", "*"}
    mean = next(r for r in rows if r["name"] == "pg_stat_statements_mean_seconds")
    assert (mean["type"], mean["unit"], mean["family"], mean["interval"]) == ("gauge", "seconds", "statements", 60.0)
    assert mean["labels"] == ["user", "datname", "queryid"]


def test_check_config_refuses_a_rule_on_a_misspelt_metric_naming_the_line_and_the_right_name(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("targets:\n  - {name: pools, kind: pool, max_connections: 100,\n"
                   "     apps: [{name: api, url: 'http://127.0.0.1:9/pool', fields: {in_use: a, max: b}}]}\n"
                   "alerting:\n  rules:\n    - name: busy\n      expr: {metric: lookout_pool_utilisation_ratio}\n"
                   "      warning: 0.8\n")
    res = run_app("check-config", "--config", str(cfg))
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert (f"{cfg}:7 alerting.rules[0].expr.metric: unknown metric 'lookout_pool_utilisation_ratio' "
            "(did you mean 'lookout_pool_utilization_ratio'?)") in res.stderr
    # The catalogue is where one looks the right name up: it lists even with that mistake in the file.
    res = run_app("metrics", "--config", str(cfg), "--kind", "pool")
    assert res.returncode == 0, res.stderr
    assert "lookout_pool_utilization_ratio" in res.stdout
