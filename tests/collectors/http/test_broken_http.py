"""Servers that do not speak HTTP, or speak it badly: each probe fails with a reason and a
sentence in Lookout's words, never a library's exception, on both urllib3 majors that
requirements.txt allows (the test venv has 1.26 through selenium; a runtime install gets 2.x).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.collectors.http.hostile import EXPECTED, probe_all, servers

ROOT = Path(__file__).resolve().parents[3]
REQUIRED = "urllib3>=1.26.20,<3"
MAJORS = {"1": "urllib3>=1.26.20,<2", "2": "urllib3>=2,<3"}
LIBRARY_WORDS = ("buffering", "getresponse", "TypeError", "ProtocolError", "HTTPConnectionPool")


def test_each_broken_answer_fails_only_its_probe_with_a_reason_in_lookouts_words():
    with servers() as running:
        up, error, results = probe_all(running)
    assert up and error is None  # the collection ran: the probes failed, not the target
    assert {case: reason for case, (reason, _) in results.items()} == EXPECTED
    for case, (_, sentence) in results.items():
        assert sentence and not any(w in sentence for w in LIBRARY_WORDS), (case, sentence)
    assert results["truncated"][1] == "the body ended early: 3 bytes read, 7 more expected (Content-Length)"


def test_an_error_no_reason_covers_names_the_probe_first():
    with servers() as running:
        _, _, results = probe_all({"bad_redirect": running["bad_redirect"]})
    reason, sentence = results["bad_redirect"]
    assert reason == "error"
    assert sentence.startswith("probe bad_redirect could not be completed: unexpected ValueError")


def test_requirements_allow_exactly_the_urllib3_range_tested_here():
    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    assert REQUIRED in lines


@pytest.fixture(scope="module", params=sorted(MAJORS))
def urllib3_path(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The newest urllib3 of one major, installed on its own (pip, from the package index)."""
    major = request.param
    target = tmp_path_factory.mktemp(f"urllib3-{major}")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           "--no-deps", "--target", str(target), MAJORS[major]],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.fail(f"pip could not install {MAJORS[major]} (the package index must be reachable): {done.stderr}")
    return major, target


def test_both_urllib3_majors_give_the_same_reasons(urllib3_path: tuple[str, Path]):
    major, path = urllib3_path
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(path), str(ROOT)])}
    done = subprocess.run([sys.executable, "-W", "ignore::DeprecationWarning", "-m", "tests.collectors.http.hostile"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["urllib3"].split(".")[0] == major
    assert got["up"] is True and got["error"] is None
    assert {case: reason for case, (reason, _) in got["results"].items()} == EXPECTED
    for case, (_, sentence) in got["results"].items():
        assert not any(w in sentence for w in LIBRARY_WORDS), (major, case, sentence)
