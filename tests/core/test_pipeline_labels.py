"""The pipeline adds each target's labels; carried samples reuse their labelled copy."""
from __future__ import annotations

import time

from composition.pipeline import Pipeline
from core.samples import Batch, Sample
from exporter.snapshot import Snapshot
from store import Store


def _batch(target: str, samples: list[Sample], carried: list[Sample] = ()) -> Batch:
    return Batch(target=target, kind="postgres", started_at=time.time(), samples=list(samples), carried=list(carried))


def test_labels_are_added_and_carried_samples_keep_their_labelled_copy(sqlite_store_url):
    store = Store(sqlite_store_url)
    store.migrate()
    pipeline = Pipeline(store, Snapshot(), target_labels={"db": {"env": "prod", "datname": "from_config"},
                                                          "other": {"env": "test"}})
    try:
        sizes = Sample("pg_database_size_bytes", 10.0, {"datname": "shop"})
        seq = Sample("pg_sequence_used_ratio", 0.5)
        first = _batch("db", [sizes, seq])
        pipeline.handle(first)
        # The collector's own label wins over the config's, as with honor_labels.
        assert [s.labels for s in first.samples] == [
            {"env": "prod", "datname": "shop", "target": "db"},
            {"env": "prod", "datname": "from_config", "target": "db"}]

        up = Sample("pg_up", 1.0)
        second = _batch("db", [up], carried=[sizes, seq])
        pipeline.handle(second)
        assert second.carried[0] is first.samples[0] and second.carried[1] is first.samples[1]
        assert second.samples[0].labels == {"env": "prod", "datname": "from_config", "target": "db"}

        # A new object is labelled anew, even when it equals an old one: nothing is taken by value.
        newer = Sample("pg_database_size_bytes", 20.0, {"datname": "shop"})
        third = _batch("db", [], carried=[newer, up])
        pipeline.handle(third)
        assert third.carried[0] is not first.samples[0]
        assert (third.carried[0].value, third.carried[0].labels) == (20.0, {"env": "prod", "datname": "shop",
                                                                              "target": "db"})
        assert third.carried[1] is second.samples[0]

        # The same raw sample under another target gets that target's labels, not a cached copy.
        elsewhere = _batch("other", [], carried=[newer])
        pipeline.handle(elsewhere)
        assert elsewhere.carried[0].labels == {"env": "test", "datname": "shop", "target": "other"}

        # The raw samples are left as the collector made them.
        assert sizes.labels == {"datname": "shop"} and seq.labels == {}
    finally:
        store.close()
