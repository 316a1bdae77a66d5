"""The report rendered: Markdown as text tables (PNG charts only with a renderer), HTML self-contained."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from report import html, markdown
from report.build import build
from report.model import PromiseReport, Report, when
from store import Store
from tests.report.seed import SINCE, promises, recent


@pytest.fixture(scope="module")
def report() -> Report:
    store = Store(recent())
    try:
        return build(promises(), store, store.clock(), SINCE)
    finally:
        store.close()


@pytest.fixture
def no_renderer(monkeypatch):
    monkeypatch.setattr(markdown, "png_renderer", lambda: None)


def test_the_markdown_summary_has_a_row_per_promise(report, no_renderer):
    text = markdown.render(report)
    assert "| Promise | Objective | Compliance | Budget left | Worst hour | Incidents |" in text
    assert re.search(r"^\| Payment success \| 98\.0 % \| 80\.0 % \(missed, 1,996 events\) \| overspent: .* \| 1 \|$",
                     text, re.M)
    assert "| Uptime | 99.90 % | no data (no samples of lookout_target_up) | – | – | 0 |" in text


def test_the_markdown_lists_the_incident_with_its_start_end_and_worst_value(report, no_renderer):
    inc = next(p for p in report.promises if p.id == "payment_success").incidents[0]
    row = f"| critical | {when(inc.start, seconds=True)} | {when(inc.end, seconds=True)} | "
    assert row in markdown.render(report)
    assert re.search(re.escape(row) + r"\d+m\d+s \| 0\.0 % \|", markdown.render(report))


def test_the_markdown_lists_threshold_rule_incidents_among_the_other_alerts(report, no_renderer):
    text = markdown.render(report)
    others = text.split("## Other alerts", 1)[1]
    assert "| Alert | Severity | Start (first crossing) | End | Duration | Value at that severity |" in others
    assert re.search(r"^\| `payment_failure_ratio target=shop` \| critical \| .* \| \d+\.\d % \|$", others, re.M)


def test_without_a_static_renderer_the_markdown_is_text_and_says_so(report, no_renderer, tmp_path):
    text = markdown.render(report, tmp_path / "report.md")
    assert "Charts: text only (no static chart renderer: install kaleido" in text
    assert "![" not in text and list(tmp_path.iterdir()) == []


def test_with_a_renderer_the_markdown_links_a_png_per_chart(report, monkeypatch, tmp_path):
    monkeypatch.setattr(markdown, "png_renderer", lambda: lambda p, r, path: path.write_bytes(b"\x89PNG"))
    text = markdown.render(report, tmp_path / "report.md")
    assert "![Payment success: the SLI over the period](report-payment_success.png)" in text
    assert "Charts: text only" not in text
    # Uptime has no samples, so no chart.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report-payment_success.png", "report-pool_utilisation.png"]


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href", "action", "data", "poster", "srcset")]


def test_the_html_fetches_nothing_from_anywhere(report):
    page = html.render(report)
    parser = Links()
    parser.feed(page)
    assert not [u for u in parser.urls if re.match(r"\s*(https?:)?//", u)]
    assert "link" not in parser.tags and "iframe" not in parser.tags and "img" not in parser.tags
    # plotly.js itself is inside the page, and every chart is drawn by it.
    assert len(page) > 3_000_000 and page.count("Plotly.newPlot(") == 2
    assert not re.search(r"<script[^>]+src=", page)


def test_the_html_escapes_the_config_s_texts():
    p = PromiseReport(id="x", title="<script>alert(1)</script>", description="a & b", unit="ratio", objective=0.9,
                      sli="s", compliance=None, budget_left=None, value=None, seen=0, seen_what="events",
                      worst_hour=None, reason="no samples of m")
    page = html.render(Report(start=0, end=3600, since=3600, promises=[p], others=[]))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a &amp; b" in page and "No chart: no samples of m." in page
