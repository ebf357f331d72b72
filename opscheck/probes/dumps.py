"""What a backup's files hold, read where they lie: dumps (plain, gzipped, custom, directory) and tar archives.

Standard library only, and nothing of opscheck's, so the same code can run on the host that holds the
backups; every function returns plain facts (JSON-able) and never raises for a damaged file: a damaged
file is a fact too. Nothing is loaded whole: files are streamed, a dump's rows counted as they pass.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import shutil
import subprocess
import tarfile
import zlib
from collections import deque
from pathlib import Path
from typing import Any, BinaryIO

BLOCK = 1 << 20
# pg_dump's plain format ends with this line; a dump cut short does not.
PLAIN_DUMP_TRAILER = b"-- PostgreSQL database dump complete"
DUMPED_BY = re.compile(rb"Dumped by pg_dump version:? (\d+(?:\.\d+)?)")
COPY_START = re.compile(rb"^COPY (\S+) \(")


def digest(path: str, algorithm: str = "sha256") -> str:
    """The hex digest of a file, read in blocks (what `sha256sum` / `md5sum` print)."""
    with open(path, "rb") as handle:
        return stream_digest(handle, algorithm)


def stream_digest(handle: BinaryIO, algorithm: str = "sha256") -> str:
    hasher = hashlib.new(algorithm)
    for block in iter(lambda: handle.read(BLOCK), b""):
        hasher.update(block)
    return hasher.hexdigest()


def dump_format(path: str) -> str:
    """plain, plain-gzip, directory or custom, from the dump's place and first bytes (not its name alone)."""
    file = Path(path)
    if file.is_dir():
        return "directory"
    with open(file, "rb") as handle:
        head = handle.read(5)
    if head.startswith(b"\x1f\x8b"):
        return "plain-gzip"
    if head == b"PGDMP":
        return "custom"
    return "plain"


def inspect_dump(
    path: str, pg_restore: str | None = None, timeout_s: float = 3600, newest: tuple[str, str] | None = None
) -> dict[str, Any]:
    """A dump's facts: its format, size, whether it is whole, the pg_dump that wrote it, and its rows per table.

    Plain dumps (gzipped or not) are streamed once: the COPY blocks' rows counted, the completion line looked
    for at the end (a gzip stream's CRC is checked as it ends). Custom and directory dumps are read whole by
    `pg_restore -f /dev/null` (`--list` alone passes a truncated archive), their rows counted from
    `pg_restore --data-only -f -`. `newest` (table, column): the largest value of that column in the table's
    rows (the prices' newest day), as written in the dump.
    """
    facts: dict[str, Any] = {"path": path, "format": "missing", "size": 0, "complete": False, "tool": None,
                             "rows": {}, "problem": None, "newest": None}  # fmt: skip
    facts["_newest"] = newest
    try:
        facts["format"] = dump_format(path)
        facts["size"] = _size(Path(path))
        if facts["size"] == 0:
            facts["problem"] = "is empty"
        elif facts["format"] in ("plain", "plain-gzip"):
            opener = gzip.open if facts["format"] == "plain-gzip" else open
            with opener(path, "rb") as handle:
                _read_plain(handle, facts)
        else:
            _read_archive(path, pg_restore, timeout_s, facts)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        facts["complete"] = False
        facts["problem"] = f"cannot be read to its end ({type(exc).__name__}: {exc})"
    facts.pop("_newest")
    return facts


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _read_plain(handle: BinaryIO, facts: dict[str, Any]) -> None:
    facts["complete"] = PLAIN_DUMP_TRAILER in _count_rows(handle, facts)
    if not facts["complete"]:
        facts["problem"] = "does not end with pg_dump's completion line (cut short?)"


def _count_rows(handle: BinaryIO, facts: dict[str, Any]) -> bytes:
    """Count the COPY blocks' rows per table into facts["rows"], note the pg_dump that wrote it; the dump's tail."""
    rows: dict[str, int] = facts["rows"]
    table, count, column, newest = None, 0, None, b""
    tail: deque[bytes] = deque(maxlen=16)
    for line in handle:
        if table is not None:
            if line.startswith(b"\\."):
                rows[table] = rows.get(table, 0) + count
                table, column = None, None
            else:
                count += 1
                if column is not None:
                    value = line.split(b"\t", column + 1)[column]
                    newest = max(newest, value)
            continue
        tail.append(line)
        if facts["tool"] is None and line.startswith(b"--"):
            found = DUMPED_BY.search(line)
            if found:
                facts["tool"] = "pg_dump " + found[1].decode()
        started = COPY_START.match(line)
        if started:
            table, count = _table_name(started[1].decode(errors="replace")), 0
            column = _column(line, facts["_newest"], table)
    if table is not None:  # a COPY block that never ended: the dump was cut inside it
        rows[table] = rows.get(table, 0) + count
        tail.append(b"")
    if newest:
        facts["newest"] = newest.decode(errors="replace")
    return b"".join(tail)


def _column(copy_line: bytes, wanted: tuple[str, str] | None, table: str) -> int | None:
    """Where `wanted`'s column is in a COPY block's rows, if this block is its table's."""
    if wanted is None or wanted[0] != table:
        return None
    names = copy_line.split(b"(", 1)[1].split(b")", 1)[0].decode(errors="replace")
    columns = [c.strip().strip('"') for c in names.split(",")]
    return columns.index(wanted[1]) if wanted[1] in columns else None


def _table_name(qualified: str) -> str:
    """public.stock_prices → stock_prices; other schemas keep their name."""
    name = qualified.replace('"', "")
    return name.removeprefix("public.")


def _read_archive(path: str, pg_restore: str | None, timeout_s: float, facts: dict[str, Any]) -> None:
    tool = pg_restore or shutil.which("pg_restore")
    if tool is None:
        facts["problem"] = "cannot be checked here: pg_restore is not installed (postgresql-client)"
        return
    whole = subprocess.run([tool, "-f", "/dev/null", path], capture_output=True, text=True, timeout=timeout_s)
    if whole.returncode != 0:
        facts["problem"] = f"does not read whole (pg_restore: {' '.join(whole.stderr.split())[-300:]})"
        return
    listed = subprocess.run([tool, "--list", path], capture_output=True, timeout=timeout_s)
    found = DUMPED_BY.search(listed.stdout)
    facts["tool"] = "pg_dump " + found[1].decode() if found else None
    data = subprocess.Popen([tool, "--data-only", "-f", "-", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert data.stdout is not None
    _count_rows(data.stdout, facts)
    data.wait(timeout=timeout_s)
    facts["complete"] = data.returncode == 0
    if not facts["complete"]:
        facts["problem"] = f"its data does not read whole (pg_restore exited {data.returncode})"


def archive_members(path: str, algorithm: str = "sha256") -> dict[str, Any]:
    """Every file in a tar archive (gzipped or not) → its digest, reading it to its very end (`gzip -t`,
    `tar -t`); or the problem that stopped the read."""
    try:
        members = {}
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                if member.isfile():
                    with tar.extractfile(member) as body:  # type: ignore[union-attr]
                        members[member.name] = stream_digest(body, algorithm)
        return {"members": members, "problem": None}
    except (OSError, EOFError, tarfile.TarError, zlib.error) as exc:
        return {"members": {}, "problem": f"is not a whole archive ({type(exc).__name__}: {exc})"}
