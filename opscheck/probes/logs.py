"""Log probe: time-ordered logs read as streams, in bounded memory, rotated files included.

A window's start is found by binary search on byte offsets, so the last two hours of a
log cost two hours of reading however large the file is. Rotated files (`.1`, `.2.gz`, …)
are read only when the window reaches back into them (a file last written before the
window opens cannot hold a line inside it). Files are read where they lie, through a `Files`
(opscheck.probes.files): on a remote host only the bytes the window needs cross the wire.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from isal import igzip, igzip_lib

from opscheck.errors import ProbeError
from opscheck.probes.files import LOCAL, Entry, Files, kind_of

TimeOf = Callable[[bytes], float | None]  # a line's epoch seconds, None for an unstamped line
ROTATED = re.compile(r"\.(\d+)(\.gz)?$")
CHUNK = 1 << 20  # what one probe of the window seek reads at most
READ = 6 << 20  # what a window read takes at a time: large enough for a bulk parser to pay, small for memory
MAX_LINE = 1 << 16  # a longer "line" is no log line (a crashed writer's run without newlines): cut, counted
# A gzipped rotation cut short (EOFError), corrupt (zlib's or ISA-L's error), or not gzip at all; and with the file
# system's errors, what stops a file's read.
DAMAGED = (EOFError, zlib.error, igzip_lib.IsalError, gzip.BadGzipFile)
UNREADABLE = (OSError, *DAMAGED)


@dataclass
class Bounds:
    """How much a read of a log may cost: any line is cut at `line_bytes`; a window read stops, as a failure that
    says so, past `read_bytes` or `read_s` (never a hang, whatever the file holds). Both bound the whole read,
    every file of it together (the live file and each rotation it reaches, gzipped ones counted decompressed), so
    a week read in one pass costs at most what one window may."""

    line_bytes: int = MAX_LINE
    read_bytes: int = 4 << 30
    read_s: float = 120.0


@dataclass
class _Spent:
    """What a read has cost so far, across the files it reaches: against `Bounds.read_bytes` and `read_s`."""

    deadline: float
    moved: int = 0


@dataclass
class Oddities:
    """What a read passed over, counted: lines cut at the bound, lines holding NUL bytes (a sparse or torn file)."""

    cut_lines: int = 0
    nul_lines: int = 0
    skipped_bytes: int = 0

    def said(self) -> str:
        parts = [f"{self.cut_lines} line(s) longer than the line bound cut"] if self.cut_lines else []
        parts += [f"{self.nul_lines} line(s) of NUL bytes skipped"] if self.nul_lines else []
        return "; ".join(parts)


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


def seek_to(handle: BinaryIO, size: int, since: float, time_of: TimeOf, line_bytes: int = MAX_LINE) -> int:
    """The offset of the first line at or after `since` in a time-ordered file, by binary search.

    Each probe reads at most a chunk past its middle (lines cut at `line_bytes`), so a file without line breaks
    or stamps costs what a normal one does; a stamp out of order (a clock stepped back) only narrows the search.
    """
    low, high = 0, size
    while high - low > CHUNK // 16:
        middle = (low + high) // 2
        handle.seek(middle)
        handle.readline(line_bytes)  # to the start of the next whole line
        when, read = None, 0
        while when is None and read < CHUNK:
            line = handle.readline(line_bytes)
            if not line:
                break
            read += len(line)
            when = time_of(line)
        if when is None or when >= since:
            high = middle
        else:
            low = middle
    if low:
        handle.seek(low)
        handle.readline(line_bytes)
        return handle.tell()
    return 0


def _skip_hole(handle: BinaryIO, odd: Oddities) -> None:
    """Past a sparse file's hole (a truncate's, or a crashed writer's) to its next data, where the file is local."""
    try:
        here = handle.tell()
        ahead = os.lseek(handle.fileno(), here, os.SEEK_DATA)
    except (OSError, AttributeError, io.UnsupportedOperation):  # no more data, or not a local file
        try:
            handle.seek(0, os.SEEK_END)
        except (OSError, io.UnsupportedOperation):
            return
        return
    if ahead > here:
        odd.skipped_bytes += ahead - here
        handle.seek(ahead)


def _long_line(body: bytes, bound: int) -> bool:
    """Whether a line of `body` is longer than `bound`, in hops of up to `bound` bytes (no split into lines)."""
    at = 0
    while len(body) - at > bound:
        newline = body.rfind(b"\n", at, at + bound + 1)
        if newline < 0:
            return True
        at = newline + 1
    return False


def _joined(lines: list[bytes]) -> bytes | None:
    return b"\n".join(lines) if lines else None


class LogFile:
    """One log (with its rotations) of a target, read between two moments."""

    part = "log"

    def __init__(
        self, name: str, path: Path | str, time_of: TimeOf, files: Files = LOCAL, bounds: Bounds | None = None
    ) -> None:
        self.name = name
        self.path = str(path)
        self.time_of = time_of
        self.files = files
        self.bounds = bounds or Bounds()
        self.oddities = Oddities()

    @property
    def place(self) -> str:
        """The log as a person finds it: its path, and the host that holds it where that is not this machine."""
        return self.path if self.files is LOCAL else f"{self.path} on {self.files.where}"

    def _error(self, path: str, exc: BaseException) -> ProbeError:
        cause = getattr(exc, "strerror", None) or str(exc)
        if path.endswith(".gz") and isinstance(exc, DAMAGED):
            cause = (f"a damaged gzip rotation, not read to its end ({cause}): `gzip -t` on its host confirms it; "
                     "its lines cannot be counted, so the window's figures cannot be told")  # fmt: skip
        return ProbeError(f"{self.name} log", f"{path} on {self.files.where}", cause)

    def lines(self, since: float, until: float | None = None) -> Iterator[bytes]:
        """Lines stamped in [since, until), oldest first, without their newline."""
        for block in self.blocks(since, until):
            yield from block

    def blocks(self, since: float, until: float | None = None) -> Iterator[list[bytes]]:
        """The same lines in blocks of a few megabytes: callers that count can work a block at a time."""
        for chunk in self.chunks(since, until):
            yield chunk.split(b"\n")

    def chunks(self, since: float, until: float | None = None) -> Iterator[bytes]:
        """The same lines as whole chunks of bytes, joined by newlines: for a bulk parser (no line a Python object).

        Time stamps are read only at the window's edges: logs are time-ordered, so every line
        between the first one inside the window and the chunk that reaches `until` is inside.
        An unstamped line (a traceback's continuation) goes with the line before it.
        """
        found = family(self.path, self.files)
        if not found:
            raise self.files.missing(f"{self.name} log", self.path, "no such file (nor any rotation of it)")
        spent = _Spent(time.monotonic() + self.bounds.read_s)
        for file in found:
            if file.kind != "f":
                raise self.files.missing(f"{self.name} log", file.name, f"is a {kind_of(file)}, not a regular file: "
                                         "not read (a log is a file)")  # fmt: skip
            try:
                if file.mtime < since:
                    continue
                for chunk in self._chunks(file, since, until, spent):
                    if chunk is None:
                        return
                    yield chunk
            except UNREADABLE as exc:
                raise self._error(file.name, exc) from None

    def _open(self, path: str, head: bool = False) -> BinaryIO:
        """The file, a gzipped rotation inflated: by ISA-L (python-isal, 3× zlib's speed) for a read through it; by
        zlib for a look at its `head`, as ISA-L asks its file for 512 KiB at a time (on a remote host, all of it
        would cross the wire)."""
        handle = self.files.open(path)
        if not path.endswith(".gz"):
            return handle
        return gzip.GzipFile(fileobj=handle, mode="rb") if head else igzip.IGzipFile(fileobj=handle, mode="rb")  # type: ignore[return-value]

    def _chunks(self, file: Entry, since: float, until: float | None, spent: _Spent) -> Iterator[bytes | None]:
        """Chunks of `file` inside the window; None when `until` was reached (nothing later can be inside)."""
        compressed = file.name.endswith(".gz")
        bounds, odd = self.bounds, self.oddities
        with self._open(file.name) as handle:
            if not compressed:
                handle.seek(seek_to(handle, file.size, since, self.time_of, bounds.line_bytes))
            carry, opened, dropping = b"", False, False
            while True:
                data = handle.read(READ)
                spent.moved += len(data)
                if spent.moved > bounds.read_bytes or time.monotonic() > spent.deadline:
                    raise self.files.missing(f"{self.name} log", file.name, "its window was cut short after "
                                             f"{spent.moved >> 20} MB and {bounds.read_s:g} s at most, all its files "
                                             "together ([logs] max_read_mb, max_read_s): could not tell what it "
                                             "holds")  # fmt: skip
                if dropping and data:  # the rest of a line already cut at the bound
                    end = data.find(b"\n")
                    odd.skipped_bytes += len(data) if end < 0 else end + 1
                    if end < 0:
                        continue
                    data, dropping = data[end + 1 :], False
                body: bytes | None  # whole lines joined by newlines; None for no line at all
                if not data:
                    body, carry = carry or None, b""
                else:
                    hole = not carry.strip(b"\0") and not data.strip(b"\0")
                    cut = data.rfind(b"\n") + 1
                    if cut:  # one copy of the chunk's whole lines, however long the log (not three)
                        body, carry = b"".join((carry, memoryview(data)[: cut - 1])), data[cut:]
                    else:
                        body, carry = None, carry + data
                    if len(carry) > bounds.line_bytes:  # kept to the bound, the rest passed over
                        odd.cut_lines += 1
                        odd.skipped_bytes += len(carry) - bounds.line_bytes
                        body = carry[: bounds.line_bytes] if body is None else body + b"\n" + carry[: bounds.line_bytes]
                        carry, dropping = b"", True
                    if hole:
                        _skip_hole(handle, odd)
                if body is not None and (b"\0" in body or _long_line(body, bounds.line_bytes)):
                    body = _joined(self._sane(body.split(b"\n")))
                if body is not None and not opened:  # a chunk that ends before the window (a gzipped rotation
                    # read from its start) holds none of it: passed over whole, not line by line
                    if self._last_time(body) < since:
                        body = None
                    else:
                        lines, opened = self._from(body.split(b"\n"), since)
                        body = _joined(lines)
                if until is not None and body is not None and self._last_time(body) >= until:
                    last = _joined(self._before(body.split(b"\n"), until))
                    if last is not None:
                        yield last
                    yield None
                    return
                if body is not None:
                    yield body
                if not data:
                    return

    def windows(self, edges: Sequence[float]) -> Iterator[tuple[int, bytes]]:
        """The lines of consecutive windows [edges[i], edges[i + 1]) as (i, chunk), the log read once from the first
        edge to the last: each window gets what `chunks` gives it read alone (from its first line stamped at or after
        its edge, unstamped lines with the line before them), but a rotation the edges fall inside is read (a
        gzipped one decompressed) once, not once a window. The bounds hold for the read as a whole."""
        window = 0
        for chunk in self.chunks(edges[0], edges[-1]):
            while window < len(edges) - 2 and self._last_time(chunk) >= edges[window + 1]:
                cut = self._offset_at(chunk, edges[window + 1])
                if cut:
                    yield window, chunk[: cut - 1]
                chunk, window = chunk[cut:], window + 1
            if chunk:
                yield window, chunk

    def _offset_at(self, body: bytes, when: float) -> int:
        """The offset in `body` of its first line stamped at or after `when` (there is one): the window seek's binary
        search over the chunk, then line by line over the little it leaves (no split of the whole chunk)."""
        at = seek_to(io.BytesIO(body), len(body), when, self.time_of, self.bounds.line_bytes)
        while at < len(body):
            end = body.find(b"\n", at)
            end = len(body) if end < 0 else end
            stamp = self.time_of(body[at:end])
            if stamp is not None and stamp >= when:
                return at
            at = end + 1
        return len(body) + 1  # none (the caller saw one): all of it before `when`, never a loop past its end

    def _sane(self, lines: list[bytes]) -> list[bytes]:
        """The lines a log writer wrote: NUL runs (a sparse or torn file) left out, overlong lines cut; counted."""
        out = []
        for line in lines:
            if b"\0" in line:
                self.oddities.nul_lines += 1
                line = line.replace(b"\0", b"")
                if not line:
                    continue
            if len(line) > self.bounds.line_bytes:
                self.oddities.cut_lines += 1
                line = line[: self.bounds.line_bytes]
            out.append(line)
        return out

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

    def _last_time(self, body: bytes) -> float:
        """The stamp of the chunk's last stamped line, read from its end."""
        end = len(body)
        while end >= 0:
            start = body.rfind(b"\n", 0, end) + 1
            when = self.time_of(body[start:end])
            if when is not None:
                return when
            end = start - 1
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
                with self._open(file.name, head=True) as handle:
                    head = handle.read(65536)
            except UNREADABLE as exc:
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

    def chunks(self, since: float, until: float | None = None) -> Iterator[bytes]:
        for log in self.logs:
            yield from log.chunks(since, until)

    def windows(self, edges: Sequence[float]) -> Iterator[tuple[int, bytes]]:
        for log in self.logs:
            yield from log.windows(edges)

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

    @property
    def oddities(self) -> Oddities:
        return Oddities(*(sum(getattr(log.oddities, f) for log in self.logs) for f in ("cut_lines", "nul_lines",
                                                                                      "skipped_bytes")))  # fmt: skip
