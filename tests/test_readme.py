from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_configuration_reference_in_the_docs_matches_the_models():
    res = subprocess.run([sys.executable, "scripts/config_reference.py", "--check"], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_the_readme_gives_the_commands_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/run.sh" in readme and "bash scripts/test.sh" in readme
    assert "scripts/test.sh" in ci


def test_the_readme_keeps_the_anchors_code_and_config_point_at():
    # config.yaml says "Reference: README.md#configuration"; the bind refusal says "README.md#security".
    readme = (ROOT / "README.md").read_text()
    assert "\n## Configuration\n" in readme and "\n## Security\n" in readme
