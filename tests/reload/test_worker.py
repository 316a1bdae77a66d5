"""A cluster worker (role worker on PostgreSQL) reloads its targets and gives up removed ones' leases."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from cluster import leases
from composition.config import load_config
from composition.runtime import build_runtime
from tests.reload.support import CountingApp, http_target, wait_for, write_config


@pytest.fixture
def apps() -> Iterator[list[CountingApp]]:
    made = [CountingApp() for _ in range(3)]
    yield made
    for a in made:
        a.stop()


def test_a_worker_collects_the_added_target_and_releases_the_removed_ones_lease(tmp_path, pg_store_url, apps):
    a, b, c = apps
    path = write_config(tmp_path / "config.yaml", pg_store_url, [http_target("a", a), http_target("b", b)])
    runtime = build_runtime(load_config(path), role="worker", config_path=path)
    node = runtime.cluster
    assert node is not None
    runtime.start()
    try:
        def holders() -> dict[str, str | None]:
            with runtime.store.engine.connect() as conn:
                return {t: lease.holder for t, lease in leases.all_leases(conn).items()}

        wait_for(lambda: holders() == {"a": node.me, "b": node.me}, "both leases held by the worker")
        write_config(path, pg_store_url, [http_target("a", a), http_target("c", c)])

        result = runtime.reloader.reload()

        assert result.applied and result.added == ["c"] and result.removed == ["b"]
        assert set(node.intervals) == {"a", "c"}
        assert holders()["b"] is None  # released now, not when it expires
        wait_for(lambda: holders().get("c") == node.me and c.hits >= 1, "the added target leased and collected")
        assert 'target="b"' not in runtime.snapshot.body().decode()
    finally:
        runtime.stop()
