"""How the platform's log lines are read: nginx combined plus $request_time, and the application's own lines."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from opscheck.judge.logformats import AccessFormat, AppFormat, access_time, app_time, parse_access

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


MAIN = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
    '"$http_user_agent" "$http_x_forwarded_for" rt=$request_time uct="$upstream_connect_time"'
)


def test_an_nginx_log_format_string_reads_its_own_lines():
    form = AccessFormat.of(MAIN, client="http_x_forwarded_for")
    line = (b'10.0.0.2 - - [29/Nov/2026:08:00:00 +0000] "POST /api/auth/login HTTP/2.0" 401 31 "-" "curl/8" '
            b'"198.51.100.4, 10.0.0.2" rt=0.012 uct="0.001"')  # fmt: skip
    record = form.parse(line)
    assert record is not None
    assert (record.client, record.method, record.path, record.status, record.request_time) == (
        "198.51.100.4", "POST", "/api/auth/login", 401, 0.012)  # fmt: skip
    assert form.time_of(line) == datetime(2026, 11, 29, 8, 0, tzinfo=UTC).timestamp()
    assert form.request_line(line) == "POST /api/auth/login HTTP/2.0"
    assert form.parse(b"not a line of this log") is None


def test_iso_times_and_split_requests_are_read():
    form = AccessFormat.of("$time_iso8601 $remote_addr $request_method $request_uri $status $request_time")
    record = form.parse(b"2026-11-29T17:00:00+09:00 10.0.0.1 GET /api/health?x=1 200 0.003")
    assert record is not None and (record.path, record.time) == (
        "/api/health", datetime(2026, 11, 29, 8, 0, tzinfo=UTC).timestamp())  # fmt: skip


@pytest.mark.parametrize(
    ("log_format", "lacks"),
    [('$remote_addr "$request" $status', "holds no time"), ("$time_local $remote_addr $request", "$status"),
     ("$time_local $remote_addr $status", "$request")],
)  # fmt: skip
def test_a_format_that_cannot_give_the_figures_is_refused(log_format, lacks):
    with pytest.raises(ValueError, match=re.escape(lacks)):
        AccessFormat.of(log_format)


def test_an_application_format_with_named_fields_and_iso_times():
    form = AppFormat.of(r"\[(?P<time>[^\]]+)\] (?P<level>\w+) (?P<logger>[\w.]+): (?P<message>.*)", "iso",
                        ZoneInfo("Asia/Tokyo"))  # fmt: skip
    line = b"[2026-11-29T09:00:00.123+09:00] WARN api.auth: login failed: user=demo ip=192.0.2.7"
    entry = form.entry(line)
    assert entry is not None and (entry.level, entry.message) == ("WARNING", "login failed: user=demo ip=192.0.2.7")
    assert form.time_of(line) == datetime(2026, 11, 29, 0, 0, tzinfo=UTC).timestamp() + 0.123
    assert form.entry(b"    at frame 3") is None


def test_an_application_format_must_name_its_fields():
    with pytest.raises(ValueError, match="level"):
        AppFormat.of(r"(?P<time>\S+) (?P<message>.*)")
