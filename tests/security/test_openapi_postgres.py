"""Schemathesis against a PostgreSQL store with a write token, valid and invalid inputs alike
(NUL bytes, ids past the 32-bit columns, wrong types): no answer is a 500."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from app import create_app
from composition.config import parse_config
from composition.runtime import build_runtime
from store import Store
from tests.security.conftest import ENV, WRITE_TOKEN, auth_config

EXAMPLES = 25
HEADERS = {"Authorization": f"Bearer {WRITE_TOKEN}"}


@pytest.fixture(scope="module")
def pg_schema(pg_server, tmp_path_factory) -> Iterator[object]:
    url = pg_server.create("lookout_openapi", template=pg_server.template())
    config = auth_config() + """\
alerting:
  notifications:
    receivers: [{name: kept, sink: {}}]
  rules:
    - {name: self_down, expr: {metric: lookout_target_up}, op: "<", critical: 1}
"""
    cfg = parse_config(config, env=ENV, base_dir=tmp_path_factory.mktemp("openapi-pg"))
    runtime = build_runtime(cfg, role="web", store=Store(url))
    engine = runtime.alert_engine
    assert engine is not None
    engine.silence({"target": "self"}, None, runtime.clock() + 3600, "test", "seeded")
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", create_app(cfg, runtime=runtime), headers=HEADERS)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], allow_x00=True)
    yield schema
    runtime.store.close()
    pg_server.drop(url)


schema = schemathesis.pytest.from_fixture("pg_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_input_valid_or_not_makes_the_api_answer_500_on_postgresql(case):
    response = case.call(headers=HEADERS)
    if case.operation.path == "/api/health" and response.status_code == 503:
        return  # documented: no scheduler is alive in this web-only app
    case.validate_response(response, checks=[not_a_server_error], headers=HEADERS)
