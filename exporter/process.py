"""The standard ``process_*`` families of Lookout's own process, read at each scrape.

Dashboards and rules written for the peer exporters query ``process_cpu_seconds_total``,
``process_resident_memory_bytes``, ``process_virtual_memory_bytes``, ``process_open_fds``
(and ``process_max_fds``, ``process_start_time_seconds``) of the process that serves
``/metrics``. prometheus_client's :class:`ProcessCollector` reads them from ``/proc``
(Linux; elsewhere it yields nothing and so does this); they are rendered with the same
code as every other family.

Example::

    block = ProcessBlock()
    block.render(openmetrics=False)   # b"# HELP process_cpu_seconds_total ...\\n..."
"""
from __future__ import annotations

from prometheus_client.process_collector import ProcessCollector

from core.samples import Sample
from exporter.exposition import DROP_REASONS, Family, render


class ProcessBlock:
    """Renders the process families on demand; ``collector`` is injectable for tests."""

    def __init__(self, collector: ProcessCollector | None = None) -> None:
        self._collector = collector if collector is not None else ProcessCollector(registry=None)
        self._headers: dict[tuple[str, str, str], Family] = {}

    def samples(self) -> list[Sample]:
        return [Sample(s.name, s.value, s.labels, "counter" if mf.type == "counter" else "gauge", mf.documentation)
                for mf in self._collector.collect() for s in mf.samples]

    def claims(self) -> set[str]:
        """Every sample name these families own in either format, so no target may use one."""
        return {c for name, group in render(self.samples(), dict.fromkeys(DROP_REASONS, 0)).items()
                for c in self._family(name, group.type, group.help).claims}

    def render(self, openmetrics: bool) -> bytes:
        """The families in name order (OpenMetrics: without ``# EOF``)."""
        groups = render(self.samples(), dict.fromkeys(DROP_REASONS, 0))
        families = [(self._family(n, g.type, g.help), g.chunk) for n, g in groups.items()]
        key = (lambda fc: fc[0].om_name) if openmetrics else (lambda fc: fc[0].name)
        return b"".join(b for f, chunk in sorted(families, key=key)
                        for b in ((f.om_header if openmetrics else f.text_header), chunk))

    def _family(self, name: str, type_: str, help_: str) -> Family:
        key = (name, type_, help_)
        family = self._headers.get(key)
        if family is None:
            family = self._headers[key] = Family.make(name, type_, help_)
        return family
