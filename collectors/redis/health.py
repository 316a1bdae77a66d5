"""redis_exporter's own health families, per target.

redis_exporter reports how its scrape of the server went; Lookout's collection of a
target is that scrape, so the same families describe it under the same names:

- ``redis_exporter_last_scrape_error{err}``: 1 and the error text, or 0 and "";
- ``redis_exporter_last_scrape_duration_seconds``: the collection's wall time;
- ``redis_exporter_scrapes_total`` and the summary ``redis_exporter_scrape_duration_seconds``
  (``_sum``, ``_count``; like the exporter's, it has no quantiles): collections since start;
- ``redis_exporter_last_scrape_connect_time_seconds``: time the connection took to open.
  The exporter connects at every scrape; Lookout keeps its connection, so this is the time
  its current connection took (a reconnect after an error updates it);
- ``redis_last_key_groups_scrape_duration_milliseconds``: 0, as the exporter reports when no
  ``check-key-groups`` are set (Lookout scans no key groups).
"""
from __future__ import annotations

from core.masking import mask
from core.samples import Batch, Sample

_DURATION = "Durations of scrapes by the exporter"


class Health:
    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        self.secrets = secrets
        self.scrapes = 0
        self.duration_sum = 0.0
        self.connect_seconds = 0.0

    def samples(self, batch: Batch) -> list[Sample]:
        self.scrapes += 1
        self.duration_sum += batch.duration
        error = mask(batch.error or "", self.secrets)
        return [
            Sample("redis_exporter_last_scrape_error", 1.0 if batch.error else 0.0, {"err": error},
                   help="The last scrape error status."),
            Sample("redis_exporter_last_scrape_duration_seconds", batch.duration,
                   help="Wall time of the last collection of the target."),
            Sample("redis_exporter_last_scrape_connect_time_seconds", self.connect_seconds,
                   help="Seconds the current connection to the server took to open."),
            Sample("redis_exporter_scrapes_total", float(self.scrapes), kind="counter",
                   help="Current total redis scrapes."),
            Sample("redis_exporter_scrape_duration_seconds_sum", self.duration_sum, kind="summary", help=_DURATION),
            Sample("redis_exporter_scrape_duration_seconds_count", float(self.scrapes), kind="summary",
                   help=_DURATION),
            Sample("redis_last_key_groups_scrape_duration_milliseconds", 0.0,
                   help="Duration of the last key group metrics scrape in milliseconds (no key groups: 0)."),
        ]
