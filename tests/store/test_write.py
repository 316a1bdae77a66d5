from __future__ import annotations

import threading

from sqlalchemy import func, select

from core.samples import Batch, Sample
from store import Store
from store.schema import samples, series
from tests.store.conftest import T0


def _batch(ts: float, up: bool = True, error: str | None = None, **kw) -> Batch:
    return Batch(target="db", kind="postgres", started_at=ts, duration=0.25, up=up, error=error, **kw)


def test_written_samples_read_back_with_their_labels_and_times(store: Store) -> None:
    store.write_samples(T0, [Sample("pg_up", 1.0, {"target": "db"}, help="Is it up.")])
    store.write_samples(T0 + 15.5, [Sample("pg_up", 0.0, {"target": "db"})])

    (got,) = store.raw("pg_up", {"target": "db"}, T0, T0 + 60)

    assert got.series.labels == {"target": "db"}
    assert got.series.help == "Is it up."
    assert got.points == [(T0, 1.0), (T0 + 15.5, 0.0)]


def test_a_series_is_created_once_across_batches_and_label_orders(store: Store) -> None:
    for i in range(3):
        store.write_batch(_batch(T0 + i * 15, samples=[Sample("x", i, {"a": "1", "b": "2"})]))
    other = Store(store.url)  # as a fresh process: an empty id cache
    other.write_samples(T0 + 60, [Sample("x", 9, {"b": "2", "a": "1"})])
    other.close()

    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(series)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(samples)).scalar() == 4


def test_a_repeated_sample_at_the_same_time_is_ignored(store: Store) -> None:
    assert store.write_samples(T0, [Sample("x", 1.0)]) == 1
    assert store.write_samples(T0, [Sample("x", 2.0), Sample("y", 3.0)]) == 1

    (got,) = store.raw("x", None, T0 - 1, T0 + 1)
    assert got.points == [(T0, 1.0)]


def test_write_batch_returns_the_samples_written_and_stores_documents(store: Store) -> None:
    batch = _batch(T0, samples=[Sample("a", 1), Sample("b", 2)], documents={"locks": [{"pid": 7}]})

    assert store.write_batch(batch, interval=15) == 2
    (doc,) = store.documents("db")
    assert (doc.key, doc.ts, doc.body) == ("locks", T0, [{"pid": 7}])


def test_a_newer_document_replaces_the_old_one(store: Store) -> None:
    store.write_batch(_batch(T0, documents={"locks": [1]}))
    store.write_batch(_batch(T0 + 15, documents={"locks": [2], "audit": {"ok": True}}))

    docs = {d.key: d for d in store.documents(target="db")}
    assert docs["locks"].body == [2] and docs["locks"].ts == T0 + 15
    assert [d.body for d in store.documents(key="audit")] == [{"ok": True}]


def test_target_status_keeps_last_success_when_a_later_batch_is_down(store: Store) -> None:
    store.write_batch(_batch(T0), interval=15)
    store.write_batch(_batch(T0 + 15, up=False, error="connection refused"), interval=15)

    (st,) = store.target_status()
    assert (st.target, st.kind, st.up) == ("db", "postgres", False)
    assert st.last_attempt == T0 + 15
    assert st.last_success == T0
    assert st.last_error == "connection refused"
    assert (st.duration, st.interval) == (0.25, 15.0)


def test_target_status_clears_the_error_when_the_target_recovers(store: Store) -> None:
    store.write_batch(_batch(T0, up=False, error="timed out"))
    store.write_batch(_batch(T0 + 15))

    (st,) = store.target_status()
    assert st.up and st.last_success == T0 + 15 and st.last_error is None


def test_heartbeat_keeps_the_start_time_and_updates_the_beat(store: Store, clock) -> None:
    store.heartbeat("w1", "worker", {"pid": 42})
    clock.now += 30
    store.heartbeat("w1", "worker", {"pid": 42, "targets": 3})

    (w,) = store.workers()
    assert (w.worker_id, w.role, w.started_ts, w.heartbeat_ts) == ("w1", "worker", T0, T0 + 30)
    assert w.info == {"pid": 42, "targets": 3}


def test_concurrent_write_batch_from_8_threads_on_sqlite_loses_nothing(make_store, sqlite_store_url) -> None:
    store = make_store(sqlite_store_url)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(40):
                # Every thread creates shared and own series, racing on inserts.
                store.write_batch(Batch(target=f"t{n}", kind="k", started_at=T0 + i, samples=[
                    Sample("shared", i, {"i": str(i % 5)}), Sample("own", n, {"t": str(n)}),
                    Sample("shared_ts", n, {"t": str(n)})]))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    with store.engine.connect() as conn:
        # "shared" series: 5 label sets x 40 timestamps, a timestamp written by all
        # threads is stored once; own/shared_ts: 8 series x 40 timestamps each.
        assert conn.execute(select(func.count()).select_from(samples)).scalar() == 40 + 2 * 8 * 40
        assert conn.execute(select(func.count()).select_from(series)).scalar() == 5 + 8 + 8
    assert len(store.target_status()) == 8
