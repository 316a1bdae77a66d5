"""The Slack message stays within Slack's limits and says what it left out."""
from __future__ import annotations

from alerts.notify.channels.slack import MAX_BLOCKS, MAX_SECTION, build_payload
from alerts.notify.transport import Item, Notification


def _item(i: int, summary: str = "x") -> Item:
    return Item(outbox_id=i, kind="firing", alert_id=i, alert_key=f"k{i}", rule="r", labels={"target": f"t{i}"},
                annotations={"summary": summary}, thresholds={"op": ">", "critical": 1}, severity="critical",
                previous_severity=None, value=2.0, at=1000.0, firing_since=900.0)


def _notification(items: list[Item]) -> Notification:
    return Notification(receiver="slack", group_key="g", group_labels={}, items=items, message_id="<m>",
                        thread_id="<t>", created_at=1000.0, now=1000.0, dashboard_url="https://l.example/alerts")


def test_a_group_too_big_for_50_blocks_is_cut_with_a_note_naming_how_many_are_missing():
    payload = build_payload(_notification([_item(i) for i in range(40)]))
    blocks = payload["attachments"][0]["blocks"]
    assert len(blocks) <= MAX_BLOCKS
    assert "more alert(s) not shown" in blocks[-1]["elements"][0]["text"]
    assert payload["text"].startswith("[FIRING:40] r\n")
    assert payload["blocks"][0]["text"]["text"] == "[FIRING:40] r"


def test_a_long_summary_is_truncated_visibly_within_the_section_limit():
    payload = build_payload(_notification([_item(1, "y" * 10_000)]))
    section = payload["attachments"][0]["blocks"][0]["text"]["text"]
    assert len(section) <= MAX_SECTION and section.endswith("(truncated)")
