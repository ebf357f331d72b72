"""Log probe: time-ordered logs read as streams, in bounded memory, rotated files included.

A window's start is found by binary search on byte offsets, so the last two hours of a
log cost two hours of reading however large the file is. Rotated files (`.1`, `.2.gz`, …)
are read only when the window reaches back into them (a file last written before the
window opens cannot hold a line inside it).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import BinaryIO

from opscheck.errors import ProbeError

TimeOf = Callable[[bytes], float | None]
MONTHS = {
    m.encode(): i
    for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1)
}
ROTATED = re.compile(r"\.(\d+)(\.gz)?$")
CHUNK = 1 << 20


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


def family(path: Path) -> list[Path]:
    """The log and its rotations, oldest first: name.N(.gz) … name.1, name."""
    rotated = []
    for candidate in path.parent.glob(path.name + ".*"):
        match = ROTATED.search(candidate.name[len(path.name) :])
        if match and candidate.name[len(path.name) :] == match.group(0):
            rotated.append((int(match.group(1)), candidate))
    ordered = [p for _, p in sorted(rotated, reverse=True)]
    return [*ordered, path] if path.exists() else ordered


def seek_to(handle: BinaryIO, size: int, since: float, time_of: TimeOf) -> int:
    """The offset of the first line at or after `since` in a time-ordered file, by binary search."""
    low, high = 0, size
    while high - low > CHUNK // 16:
        middle = (low + high) // 2
        handle.seek(middle)
        handle.readline()  # to the start of the next whole line
        when = None
        while when is None:
            line = handle.readline()
            if not line:
                break
            when = time_of(line)
        if when is None or when >= since:
            high = middle
        else:
            low = middle
    if low:
        handle.seek(low)
        handle.readline()
        return handle.tell()
    return 0


class LogFile:
    """One log (with its rotations) of a target, read between two moments."""

    part = "log"

    def __init__(self, name: str, path: Path, time_of: TimeOf) -> None:
        self.name = name
        self.path = path
        self.time_of = time_of

    def lines(self, since: float, until: float | None = None) -> Iterator[bytes]:
        """Lines stamped in [since, until), oldest first, without their newline."""
        for block in self.blocks(since, until):
            yield from block

    def blocks(self, since: float, until: float | None = None) -> Iterator[list[bytes]]:
        """The same lines in blocks of about a megabyte: callers that count can work a block at a time.

        Time stamps are read only at the window's edges: logs are time-ordered, so every line
        between the first one inside the window and the block that reaches `until` is inside.
        An unstamped line (a traceback's continuation) goes with the line before it.
        """
        files = family(self.path)
        if not files:
            raise ProbeError(f"{self.name} log", str(self.path), "no such file (nor any rotation of it)")
        for file in files:
            try:
                if file.stat().st_mtime < since:
                    continue
                for block in self._blocks(file, since, until):
                    if block is None:
                        return
                    yield block
            except OSError as exc:
                raise ProbeError(f"{self.name} log", str(file), exc.strerror or str(exc)) from None

    def _blocks(self, file: Path, since: float, until: float | None) -> Iterator[list[bytes] | None]:
        """Blocks of `file` inside the window; None when `until` was reached (nothing later can be inside)."""
        compressed = file.suffix == ".gz"
        with gzip.open(file, "rb") if compressed else open(file, "rb") as handle:
            if not compressed:
                handle.seek(seek_to(handle, file.stat().st_size, since, self.time_of))  # type: ignore[arg-type]
            carry, opened = b"", False
            while True:
                data = handle.read(CHUNK)
                if not data:
                    lines = [carry] if carry else []
                else:
                    data = carry + data
                    cut = data.rfind(b"\n") + 1
                    lines, carry = data[: cut - 1].split(b"\n") if cut else [], data[cut:]
                if not opened:
                    lines, opened = self._from(lines, since)
                if until is not None and lines and self._last_time(lines) >= until:
                    yield self._before(lines, until)
                    yield None
                    return
                if lines:
                    yield lines
                if not data:
                    return

    def _from(self, lines: list[bytes], since: float) -> tuple[list[bytes], bool]:
        for index, line in enumerate(lines):
            when = self.time_of(line)
            if when is not None and when >= since:
                return lines[index:], True
        return [], False

    def _before(self, lines: list[bytes], until: float) -> list[bytes]:
        for index, line in enumerate(lines):
            when = self.time_of(line)
            if when is not None and when >= until:
                return lines[:index]
        return lines

    def _last_time(self, lines: list[bytes]) -> float:
        for line in reversed(lines):
            when = self.time_of(line)
            if when is not None:
                return when
        return float("-inf")

    def newest_time(self) -> float | None:
        """The stamp of the last stamped line of the live file (read from its end)."""
        try:
            with open(self.path, "rb") as handle:
                size = handle.seek(0, 2)
                handle.seek(max(0, size - 65536))
                stamps = [self.time_of(line) for line in handle.read().splitlines()]
        except OSError as exc:
            raise ProbeError(f"{self.name} log", str(self.path), exc.strerror or str(exc)) from None
        return next((s for s in reversed(stamps) if s is not None), None)

    def tail(self, count: int) -> list[str]:
        try:
            with open(self.path, "rb") as handle:
                size = handle.seek(0, 2)
                handle.seek(max(0, size - 200 * count))
                return [line.decode(errors="replace") for line in handle.read().splitlines()[-count:]]
        except OSError:
            return []
