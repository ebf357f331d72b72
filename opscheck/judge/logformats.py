"""How the platform's logs are written: nginx's access log and the application's log, line by line.

Pure parsing, no I/O: the log probe seeks and streams, these turn its lines into times and records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

TimeOf = Callable[[bytes], float | None]
MONTHS = {
    m.encode(): i
    for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1)
}

_last_stamp: list = [b"", None]  # lines of one second share a stamp: parse it once


def access_time(line: bytes) -> float | None:
    """Epoch seconds of an nginx access-log line: `… [29/Nov/2026:08:00:00 +0000] …`."""
    start = line.find(b"[")
    if start < 0 or len(line) < start + 27:
        return None
    stamp = line[start + 1 : start + 27]
    if stamp == _last_stamp[0]:
        return _last_stamp[1]
    _last_stamp[0], _last_stamp[1] = stamp, _parse_stamp(stamp)
    return _last_stamp[1]


def _parse_stamp(stamp: bytes) -> float | None:
    try:
        sign = 1 if stamp[21:22] == b"+" else -1
        offset = sign * (int(stamp[22:24]) * 3600 + int(stamp[24:26]) * 60)
        moment = datetime(
            int(stamp[7:11]), MONTHS[stamp[3:6]], int(stamp[0:2]),
            int(stamp[12:14]), int(stamp[15:17]), int(stamp[18:20]), tzinfo=UTC,
        )  # fmt: skip
    except (KeyError, ValueError):
        return None
    return moment.timestamp() - offset


def app_time(zone: tzinfo) -> TimeOf:
    """Epoch seconds of an application-log line: `2026-11-29 08:00:00,123 LEVEL logger message`, in `zone`."""

    def time_of(line: bytes) -> float | None:
        try:
            moment = datetime.strptime(line[:19].decode("ascii"), "%Y-%m-%d %H:%M:%S")
        except (UnicodeDecodeError, ValueError):
            return None
        return moment.replace(tzinfo=zone).timestamp()

    return time_of


@dataclass(frozen=True)
class AccessRecord:
    client: str
    time: float
    method: str
    path: str
    status: int
    size: int
    agent: str
    request_time: float | None


def parse_access(line: bytes) -> AccessRecord | None:
    """nginx `combined` plus `$request_time`: ip - user [time] "METHOD path PROTO" status size "ref" "agent" rt."""
    parts = line.split(b'"')
    if len(parts) < 7:
        return None
    when = access_time(parts[0])
    request = parts[1].split(b" ")
    tail = parts[2].split()
    if when is None or len(request) < 2 or len(tail) < 2:
        return None
    try:
        status, size = int(tail[0]), int(tail[1]) if tail[1] != b"-" else 0
        after = parts[6].split()
        request_time = float(after[0]) if after else None
    except ValueError:
        return None
    return AccessRecord(
        client=parts[0].split(b" ", 1)[0].decode(errors="replace"),
        time=when,
        method=request[0].decode(errors="replace"),
        path=request[1].split(b"?", 1)[0].decode(errors="replace"),
        status=status,
        size=size,
        agent=parts[5].decode(errors="replace"),
        request_time=request_time,
    )
