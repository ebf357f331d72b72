"""The maintenance window's record: whatever the script wrote, its newest time is when the window began."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from opscheck.judge.stamps import recorded_start

TOKYO = ZoneInfo("Asia/Tokyo")


def test_date_dash_capital_i_and_json_are_both_read():
    assert recorded_start("2026-12-06T02:00:03+09:00\n", TOKYO) == datetime(2026, 12, 5, 17, 0, 3, tzinfo=UTC)
    held = recorded_start('{"window_start": "2026-12-06T04:10:00.123456+00:00", "skipped": []}', TOKYO)
    assert held == datetime(2026, 12, 6, 4, 10, 0, 123456, tzinfo=UTC)


def test_the_newest_stamp_wins_and_a_stamp_without_offset_is_the_platforms_clock():
    text = "window 2026-11-29 02:00:00 began\nwindow 2026-12-06 02:00:00 began\n"
    assert recorded_start(text, TOKYO) == datetime(2026, 12, 6, 2, 0, tzinfo=TOKYO)


def test_no_stamp_is_none():
    assert recorded_start("maintenance started\n2026-13-45T99:99", TOKYO) is None
