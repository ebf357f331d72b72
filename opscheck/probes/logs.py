"""Log probe: time-ordered logs read as streams, in bounded memory, rotated files included.

A window's start is found by binary search on byte offsets, so the last two hours of a
log cost two hours of reading however large the file is. Rotated files (`.1`, `.2.gz`, …)
are read only when the window reaches back into them (a file last written before the
window opens cannot hold a line inside it). Files are read where they lie, through a `Files`
(opscheck.probes.files): on a remote host only the bytes the window needs cross the wire.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from opscheck.errors import ProbeError
from opscheck.probes.files import LOCAL, Entry, Files

TimeOf = Callable[[bytes], float | None]  # a line's epoch seconds, None for an unstamped line
ROTATED = re.compile(r"\.(\d+)(\.gz)?$")
CHUNK = 1 << 20


def family(path: str, files: Files = LOCAL) -> list[Entry]:
    """The log and its rotations, oldest first: name.N(.gz) … name.1, name (each an Entry named by its path)."""
    folder, name = os.path.split(path)
    rotated, live = [], None
    for entry in files.entries(folder or ".") or []:
        suffix = entry.name[len(name) :]
        if entry.name == name:
            live = entry
        elif entry.name.startswith(name) and (match := ROTATED.fullmatch(suffix)):
            rotated.append((int(match.group(1)), entry))
    ordered = [e for _, e in sorted(rotated, key=lambda r: r[0], reverse=True)] + ([live] if live else [])
    return [Entry(os.path.join(folder, e.name), e.kind, e.size, e.mtime, e.ctime) for e in ordered]


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

    def __init__(self, name: str, path: Path | str, time_of: TimeOf, files: Files = LOCAL) -> None:
        self.name = name
        self.path = str(path)
        self.time_of = time_of
        self.files = files

    @property
    def place(self) -> str:
        """The log as a person finds it: its path, and the host that holds it where that is not this machine."""
        return self.path if self.files is LOCAL else f"{self.path} on {self.files.where}"

    def _error(self, path: str, exc: BaseException) -> ProbeError:
        return ProbeError(
            f"{self.name} log", f"{path} on {self.files.where}", getattr(exc, "strerror", None) or str(exc)
        )

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
        found = family(self.path, self.files)
        if not found:
            raise self.files.missing(f"{self.name} log", self.path, "no such file (nor any rotation of it)")
        for file in found:
            try:
                if file.mtime < since:
                    continue
                for block in self._blocks(file, since, until):
                    if block is None:
                        return
                    yield block
            except (OSError, EOFError) as exc:
                raise self._error(file.name, exc) from None

    def _open(self, path: str) -> BinaryIO:
        handle = self.files.open(path)
        return gzip.GzipFile(fileobj=handle, mode="rb") if path.endswith(".gz") else handle  # type: ignore[return-value]

    def _blocks(self, file: Entry, since: float, until: float | None) -> Iterator[list[bytes] | None]:
        """Blocks of `file` inside the window; None when `until` was reached (nothing later can be inside)."""
        compressed = file.name.endswith(".gz")
        with self._open(file.name) as handle:
            if not compressed:
                handle.seek(seek_to(handle, file.size, since, self.time_of))
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

    def live(self) -> Entry | None:
        """The live file (not a rotation), as its host lists it; None where it is not there."""
        found = family(self.path, self.files)
        return found[-1] if found and found[-1].name == self.path else None

    def rotation(self) -> Entry | None:
        """The newest rotation (`.1` or `.1.gz`), where logrotate has made one."""
        return next((e for e in family(self.path, self.files) if e.name in (f"{self.path}.1", f"{self.path}.1.gz")),
                    None)  # fmt: skip

    def newest_time(self) -> float | None:
        """The stamp of the last stamped line of the live file (read from its end)."""
        try:
            with self.files.open(self.path) as handle:
                size = handle.seek(0, 2)
                handle.seek(max(0, size - 65536))
                stamps = [self.time_of(line) for line in handle.read().splitlines()]
        except OSError as exc:
            raise self._error(self.path, exc) from None
        return next((s for s in reversed(stamps) if s is not None), None)

    def oldest_time(self) -> float | None:
        """The stamp of the first stamped line of the oldest file still kept (a rotation, gzipped or not): how far
        back the log reaches. None where no file of it holds a stamped line near its start."""
        for file in family(self.path, self.files):
            try:
                with self._open(file.name) as handle:
                    head = handle.read(65536)
            except (OSError, EOFError) as exc:
                raise self._error(file.name, exc) from None
            stamps = (self.time_of(line) for line in head.splitlines())
            first = next((s for s in stamps if s is not None), None)
            if first is not None:
                return first
        return None

    def each(self) -> list[LogFile]:
        """The log's copies, one a host (this one alone)."""
        return [self]

    def covers(self, since: float) -> str | None:
        """Why the log cannot tell what happened from `since` on (it begins later, or holds nothing), or None."""
        oldest = self.oldest_time()
        if oldest is None:
            return f"the {self.name} log {self.place} holds no time-stamped line"
        if oldest > since + 60:  # a minute's grace: a log rotated at the window's edge still covers it
            began = datetime.fromtimestamp(oldest, UTC).isoformat(timespec="minutes")
            wanted = datetime.fromtimestamp(since, UTC).isoformat(timespec="minutes")
            return f"the {self.name} log {self.place} (with its rotations) begins at {began}, after {wanted}"
        return None

    def tail(self, count: int) -> list[str]:
        try:
            with self.files.open(self.path) as handle:
                size = handle.seek(0, 2)
                handle.seek(max(0, size - 200 * count))
                return [line.decode(errors="replace") for line in handle.read().splitlines()[-count:]]
        except (OSError, ProbeError):
            return []


class LogGroup:
    """One log as several hosts keep it (two API instances, two access logs): read as one, the service's."""

    def __init__(self, logs: list[LogFile]) -> None:
        self.logs = logs
        self.name = logs[0].name
        self.path = logs[0].path

    @property
    def place(self) -> str:
        return " and ".join(log.place for log in self.logs)

    def lines(self, since: float, until: float | None = None) -> Iterator[bytes]:
        for log in self.logs:
            yield from log.lines(since, until)

    def blocks(self, since: float, until: float | None = None) -> Iterator[list[bytes]]:
        for log in self.logs:
            yield from log.blocks(since, until)

    def newest_time(self) -> float | None:
        return max((t for log in self.logs if (t := log.newest_time()) is not None), default=None)

    def oldest_time(self) -> float | None:
        found = [log.oldest_time() for log in self.logs]
        return None if None in found else max(found)  # type: ignore[type-var]

    def covers(self, since: float) -> str | None:
        return next((why for log in self.logs if (why := log.covers(since))), None)

    def tail(self, count: int) -> list[str]:
        return [line for log in self.logs for line in log.tail(count)]

    def each(self) -> list[LogFile]:
        return self.logs
