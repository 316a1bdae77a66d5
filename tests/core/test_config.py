from __future__ import annotations

import textwrap

import pytest

from composition.config import load_config, parse_config
from core.durations import format_duration, parse_duration
from core.errors import ConfigError


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config(textwrap.dedent(text), env=env or {})
    return exc.value.problems


def test_a_bad_duration_names_file_line_and_key():
    assert problems("""\
        targets:
          - name: self
            kind: process
          - name: other
            kind: process
            interval: 5 minutes
        """) == ["config.yaml:6 targets[1].interval: '5 minutes' is not a duration (use 15s, 5m, 1h)"]


def test_a_bare_number_is_not_a_duration():
    [p] = problems("targets:\n  - {name: a, kind: process, interval: 15}\n")
    assert "targets[0].interval: 15 is not a duration" in p


def test_an_unknown_key_is_refused_with_a_suggestion():
    [p] = problems("targets:\n  - name: a\n    kind: process\n    intervall: 5s\n")
    assert p == "config.yaml:4 targets[0].intervall: unknown key 'intervall' (did you mean 'interval'?)"


def test_an_unknown_top_level_section_is_refused():
    [p] = problems("servers:\n  port: 1\n")
    assert p.startswith("config.yaml:1 servers: unknown key 'servers'")


def test_a_wrong_type_names_the_value():
    [p] = problems("server:\n  port: abc\n")
    assert p == "config.yaml:2 server.port: must be a whole number (got 'abc')"


def test_a_missing_environment_variable_is_named():
    [p] = problems("store:\n  url: postgresql+psycopg://lookout:${DB_PASSWORD}@db/lookout\n")
    assert p == "config.yaml:2 store.url: environment variable DB_PASSWORD is not set"


def test_a_duplicate_target_name_points_at_the_second_one():
    [p] = problems("targets:\n  - {name: a, kind: process}\n  - {name: a, kind: process}\n")
    assert p == "config.yaml:3 targets[1].name: duplicate target name 'a' (first at targets[0])"


def test_an_unknown_kind_lists_the_known_ones():
    [p] = problems("targets:\n  - {name: a, kind: mongodb}\n")
    assert "targets[0].kind" in p and "mongodb" in p and "process" in p


def test_a_timeout_must_be_shorter_than_the_interval():
    [p] = problems("targets:\n  - {name: a, kind: process, interval: 5s, timeout: 5s}\n")
    assert "timeout (5s) must be shorter than interval (5s)" in p


def test_a_store_url_must_name_its_driver():
    [p] = problems("store:\n  url: postgresql://db/lookout\n")
    assert p == "config.yaml:2 store.url: name the driver: use postgresql+psycopg://..."


def test_duplicate_yaml_keys_are_refused():
    [p] = problems("server:\n  port: 1\n  port: 2\n")
    assert p == "config.yaml:3 server.port: duplicate key"


def test_invalid_yaml_names_the_line():
    [p] = problems("server:\n  port: [1\n")
    assert p.startswith("config.yaml:") and "invalid YAML" in p


def test_every_mistake_is_reported_at_once():
    got = problems("store:\n  url: ${A}\nserver:\n  host: ${B}\n")
    assert [p.split(":", 2)[1].split()[0] for p in got] == ["2", "4"]


def test_secrets_are_substituted_and_remembered():
    cfg = parse_config("store:\n  url: postgresql+psycopg://u:${PW}@db/x\n", env={"PW": "s3cret"})
    assert cfg.store.url == "postgresql+psycopg://u:s3cret@db/x"
    assert cfg.secret_values == frozenset({"s3cret"})


def test_defaults_fill_a_minimal_config():
    cfg = parse_config("targets:\n  - {name: self, kind: process}\n", env={})
    t = cfg.targets[0]
    assert (t.interval, t.timeout) == (15.0, 10.0)
    assert (cfg.server.host, cfg.server.port) == ("127.0.0.1", 8050)
    assert cfg.store.retention.raw == 7 * 86400


def test_a_valid_config_round_trips(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("server: {port: 9000}\nstore:\n  url: sqlite:///x.db\n  retention: {raw: 2d}\n"
                    "targets:\n  - {name: self, kind: process, interval: 1m30s, labels: {team: core}}\n")
    cfg = load_config(path)
    dumped = cfg.model_dump(mode="json")
    assert dumped["targets"][0]["interval"] == "1m30s"
    again = parse_config(__import__("yaml").safe_dump(dumped), env={})
    assert again.model_dump() == cfg.model_dump()
    assert cfg.store_url() == f"sqlite:///{tmp_path / 'x.db'}"


def test_the_shipped_config_is_valid(monkeypatch):
    from pathlib import Path

    cfg = load_config(Path(__file__).parents[2] / "config.yaml")
    assert cfg.targets


@pytest.mark.parametrize("text,seconds", [("15s", 15), ("5m", 300), ("1h30m", 5400), ("500ms", 0.5), ("7d", 604800)])
def test_durations_parse(text, seconds):
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds
