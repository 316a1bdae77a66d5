from __future__ import annotations

import pytest
from sqlalchemy import inspect

from core.samples import Sample
from store import Store, schema
from store.engine import create_store_engine
from tests.store.conftest import T0


def _tables(store: Store) -> set[str]:
    return set(inspect(store.engine).get_table_names())


def test_migrate_creates_every_table_at_the_latest_version(store: Store) -> None:
    assert {"meta", "series", "samples", "samples_1m", "samples_1h", "target_status", "documents",
            "workers"} <= _tables(store)
    assert store.schema_version() == schema.LATEST


def test_migrating_twice_is_a_no_op(store: Store) -> None:
    store.write_samples(T0, [Sample("g", 1.0)])

    store.migrate()

    assert store.schema_version() == schema.LATEST
    assert store.raw("g", None, T0, T0)[0].points == [(T0, 1.0)]


def test_a_database_at_an_older_version_is_upgraded_in_place(store_url: str) -> None:
    engine = create_store_engine(store_url)
    assert schema.migrate(engine, target=1) == 1
    engine.dispose()
    old = Store(store_url)
    assert old.schema_version() == 1 and "samples_1m" not in _tables(old)
    old.write_samples(T0, [Sample("g", 1.0)])  # v1 already holds samples

    old.migrate()

    assert old.schema_version() == schema.LATEST
    assert {"samples_1m", "samples_1h", "workers"} <= _tables(old)
    assert "ix_samples_ts" in {ix["name"] for ix in inspect(old.engine).get_indexes("samples")}
    assert old.raw("g", None, T0, T0)[0].points == [(T0, 1.0)]
    old.close()


def test_check_writable_is_none_when_writes_succeed(store: Store) -> None:
    assert store.check_writable() is None


def test_check_writable_returns_the_error_on_a_read_only_sqlite_file(sqlite_store_url: str, tmp_path) -> None:
    rw = Store(sqlite_store_url)
    rw.migrate()
    rw.close()
    path = sqlite_store_url.removeprefix("sqlite:///")
    # Opened read-only by SQLite itself: chmod would not stop root, who runs the tests.
    ro = Store(f"sqlite:///file:{path}?mode=ro&uri=true")

    error = ro.check_writable()

    ro.close()
    assert error is not None and "readonly" in error


def test_an_unsupported_url_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported store"):
        Store("mysql://localhost/lookout")
