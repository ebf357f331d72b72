"""Several windows read in one pass (`LogFile.windows`, W1's days) give each window exactly what reading it alone
gives: its lines, and so its figures, on a log rotated at another hour than the windows' edges, gzip included."""

from __future__ import annotations

import gzip
import os
import tempfile
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opscheck.errors import ProbeError
from opscheck.judge.logformats import AccessFormat, access_time
from opscheck.judge.logstats import traffic_by, traffic_in
from opscheck.probes.logs import Bounds, LogFile

DAY = 86400.0
START = datetime(2026, 11, 20, tzinfo=UTC).timestamp()
CLIENTS = ["198.51.100.7", "203.0.113.9", "192.0.2.1"]
PATHS = ["/api/predictions/AAPL", "/api/health", "/login"]


def _line(when: float, n: int) -> bytes:
    stamp = datetime.fromtimestamp(when, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return (f'{CLIENTS[n % 3]} - - [{stamp}] "GET {PATHS[n % 3]} HTTP/1.1" {(200, 404, 503)[n % 5 % 3]} 512 "-" '
            f'"Mozilla/5.0" {n % 7 / 100:.3f}').encode()  # fmt: skip


def _rotated(folder: Path, step: float, rotate_at: float, days: int = 10) -> LogFile:
    """`days` of log, a line every `step` seconds (a traceback's unstamped line now and then), rotated daily at
    `rotate_at` seconds past midnight as logrotate leaves it: access.log, .1, then .N.gz, each file's mtime its
    last line's."""
    lines, when, n = [], START, 0
    while when < START + days * DAY:
        lines.append((when, _line(when, n)))
        if n % 11 == 0:
            lines.append((when, b"  continued: not a request"))
        when, n = when + step, n + 1
    for rotation in range(days + 1):
        since = START + (days - rotation - 1) * DAY + rotate_at
        until = since + DAY
        text = b"".join(line + b"\n" for at, line in lines if since <= at < until or (rotation == days and at < until))
        if not text:
            continue
        name = folder / ("access.log" if rotation == 0 else f"access.log.{rotation}")
        if rotation >= 2:
            name = name.with_name(name.name + ".gz")
        name.write_bytes(gzip.compress(text, 1) if rotation >= 2 else text)
        last = max(at for at, _ in lines if at < until)
        os.utime(name, (last, last))
    return LogFile("access", folder / "access.log", access_time)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    step=st.sampled_from([97.0, 331.5, 1800.0]),
    rotate_at=st.floats(0, DAY - 1),
    now=st.floats(8 * DAY, 10 * DAY),
    least=st.sampled_from([0, 1 << 20]),
)
def test_one_pass_split_by_day_gives_each_day_what_its_own_window_gives(step, rotate_at, now, least):
    with tempfile.TemporaryDirectory() as folder:
        log = _rotated(Path(folder), step, rotate_at)
        now += START
        edges = [now - 14 * DAY] + [now - (7 - d) * DAY for d in range(8)]  # as W1: the week before, each day
        pieces: list[list[bytes]] = [[] for _ in edges[1:]]
        for window, chunk in log.windows(edges):
            pieces[window].append(chunk)
        for window, (since, until) in enumerate(pairwise(edges)):
            alone = b"\n".join(log.chunks(since, until))
            assert b"\n".join(pieces[window]) == alone, f"window {window}"
        one_pass = traffic_by(log.windows(edges), len(edges) - 1, least=least)
        each = [traffic_in(log.chunks(since, until), least=least) for since, until in pairwise(edges)]
        assert one_pass == each
        assert sum(t.requests for t in one_pass[1:]) > 0


def test_a_log_format_of_the_sites_own_is_split_by_day_as_read_by_day(tmp_path):
    """Another `log_format` (read line by line, by its own regex) gets the same one-pass split."""
    form = AccessFormat.of('$remote_addr - $remote_user [$time_local] "$request" $status $bytes_sent "$http_referer" '
                           '"$http_user_agent" $request_time')  # fmt: skip
    log = _rotated(tmp_path, 331.5, 5 * 3600 + 41)
    log.time_of = form.time_of
    now = START + 9 * DAY + 13 * 3600
    edges = [now - 14 * DAY] + [now - (7 - d) * DAY for d in range(8)]
    one_pass = traffic_by(log.windows(edges), len(edges) - 1, form)
    assert one_pass == [traffic_in(log.chunks(since, until), form) for since, until in pairwise(edges)]
    assert form.regex is not None and all(day.requests for day in one_pass[2:])


def test_the_read_bounds_hold_for_the_whole_read_not_each_file(tmp_path):
    """max_read_mb bounds the week read in one pass, every file together: eight files under it each, over it all."""
    log = _rotated(tmp_path, 97.0, 3 * 3600 + 17 * 60)
    log.bounds = Bounds(read_bytes=max(os.path.getsize(tmp_path / "access.log.1"), 1) * 3)
    with pytest.raises(ProbeError, match="all its files together"):
        list(log.windows([START + d * DAY for d in range(11)]))


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="cut-short"),
        pytest.param(lambda data: data[:200] + b"x" * 300 + data[500:], id="corrupt"),
        pytest.param(lambda data: data[:-8] + b"\0\0\0\0" + data[-4:], id="wrong-crc"),
    ],
)
def test_a_damaged_gzip_rotation_is_named_not_a_traceback(tmp_path, damage):
    """A rotation cut short or corrupt stops the read with one line that names the file and says what is wrong."""
    log = _rotated(tmp_path, 97.0, 3 * 3600)
    rotation = tmp_path / "access.log.3.gz"
    stamp = rotation.stat().st_mtime
    rotation.write_bytes(damage(rotation.read_bytes()))
    os.utime(rotation, (stamp, stamp))
    with pytest.raises(ProbeError, match=r"access\.log\.3\.gz on .*: a damaged gzip rotation, not read to its end"):
        traffic_in(log.chunks(START))


def test_a_rotation_corrupt_at_its_start_is_named_when_the_log_is_asked_how_far_back_it_reaches(tmp_path):
    """The oldest rotation's first line (how far back the log reaches) is read through zlib, not ISA-L: its errors
    are named as well."""
    log = _rotated(tmp_path, 97.0, 3 * 3600)
    oldest = max(tmp_path.glob("access.log.*.gz"), key=lambda path: int(path.name.split(".")[2]))
    data = oldest.read_bytes()
    oldest.write_bytes(data[:200] + b"x" * 300 + data[500:])
    with pytest.raises(ProbeError, match=rf"{oldest.name} on .*: a damaged gzip rotation, not read to its end"):
        log.oldest_time()
