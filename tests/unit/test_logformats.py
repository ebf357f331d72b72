"""How the platform's log lines are read: nginx combined plus $request_time, and the application's own lines."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from opscheck.judge.logformats import access_time, app_time, parse_access

LINE = (
    b'203.0.113.7 - - [29/Nov/2026:08:00:00 +0900] "GET /api/predictions/AAPL?days=7 HTTP/1.1" 200 512 "-" '
    b'"Mozilla/5.0" 0.042'
)


def test_an_access_line_gives_every_field_the_checks_use():
    record = parse_access(LINE)
    assert record is not None
    assert (record.client, record.method, record.path, record.status, record.size) == (
        "203.0.113.7", "GET", "/api/predictions/AAPL", 200, 512)  # fmt: skip
    assert record.agent == "Mozilla/5.0" and record.request_time == 0.042


def test_the_stamp_offset_is_honoured():
    assert access_time(LINE) == datetime(2026, 11, 28, 23, 0, tzinfo=UTC).timestamp()


def test_a_size_of_dash_is_zero_and_a_missing_request_time_is_none():
    record = parse_access(b'10.0.0.1 - - [29/Nov/2026:08:00:00 +0000] "HEAD / HTTP/1.1" 304 - "-" "curl/8"')
    assert record is not None and record.size == 0 and record.request_time is None


def test_lines_that_are_not_access_lines_give_nothing():
    for junk in (b"", b"garbage", b'1.2.3.4 - - [99/Foo/2026:08:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "a" 0.1',
                 b'1.2.3.4 - - [29/Nov/2026:08:00:00 +0000] "GET" 200 1 "-" "a" 0.1'):  # fmt: skip
        assert parse_access(junk) is None


def test_application_lines_are_read_in_the_targets_zone():
    time_of = app_time(ZoneInfo("Asia/Tokyo"))
    assert (
        time_of(b"2026-11-29 09:00:00,123 ERROR miraikakaku boom")
        == datetime(2026, 11, 29, 0, 0, tzinfo=UTC).timestamp()
    )
    assert time_of(b"Traceback (most recent call last):") is None
