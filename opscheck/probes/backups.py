"""Backup store probe: the manual's layout, `<root>/<YYYYmmdd_HHMMSS>/`, one folder a backup set.

Each set holds the files the manual's daily_backup.sh writes (`database_<ts>.sql`,
`config_<ts>.tar.gz`, `logs_<ts>.tar.gz`), a `SHA256SUMS` manifest (verifiable by hand
with `sha256sum -c`) and `backup.json`, the job's record: its kind (hourly, daily,
weekly), when it finished, and the figures it saw at dump time.
"""

from __future__ import annotations

import json
import tarfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opscheck.digests import sha256_of, sha256_of_stream
from opscheck.errors import ProbeError

KINDS = ("hourly", "daily", "weekly")
# What each kind must hold, by file-name prefix (the manual's daily_backup.sh).
REQUIRED_PARTS = {
    "hourly": ("database",),
    "daily": ("database", "config", "logs"),
    "weekly": ("database", "config", "logs"),
}
# pg_dump's plain format ends with this line; a dump cut short does not.
PLAIN_DUMP_TRAILER = b"-- PostgreSQL database dump complete"


@dataclass(frozen=True)
class BackupSet:
    path: Path
    record: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def kind(self) -> str:
        return str(self.record.get("kind", "unknown"))

    @property
    def finished_at(self) -> datetime:
        return datetime.fromisoformat(self.record["finished_at"]).astimezone(UTC)

    def part(self, prefix: str) -> Path | None:
        matches = sorted(self.path.glob(f"{prefix}_*"))
        return matches[0] if matches else None

    def missing_parts(self) -> list[str]:
        return [prefix for prefix in REQUIRED_PARTS.get(self.kind, ()) if self.part(prefix) is None]

    def empty_parts(self) -> list[str]:
        return [p.name for p in self.path.iterdir() if p.is_file() and p.stat().st_size == 0]

    def checksum_problems(self) -> list[str]:
        """Every file listed in SHA256SUMS must be there and match; every data file must be listed."""
        sums = self.path / "SHA256SUMS"
        if not sums.is_file():
            return ["no SHA256SUMS manifest"]
        listed: dict[str, str] = {}
        for line in sums.read_text(encoding="utf-8").splitlines():
            digest, _, name = line.partition("  ")
            listed[name.strip()] = digest.strip()
        problems = []
        for name, digest in listed.items():
            file = self.path / name
            if not file.is_file():
                problems.append(f"{name} listed in SHA256SUMS but missing")
            elif sha256_of(file) != digest:
                problems.append(f"{name} does not match its SHA256SUMS digest")
        unlisted = {
            p.name for p in self.path.iterdir() if p.is_file() and p.name not in ("SHA256SUMS", "backup.json")
        } - listed.keys()
        problems.extend(f"{name} not listed in SHA256SUMS" for name in sorted(unlisted))
        return problems

    def dump_problems(self) -> list[str]:
        """A plain SQL dump must end with pg_dump's completion line; anything else was cut short."""
        dump = self.part("database")
        if dump is None or dump.suffix != ".sql":
            return []
        size = dump.stat().st_size
        if size == 0:
            return [f"{dump.name} is empty"]
        with dump.open("rb") as handle:
            handle.seek(max(0, size - 4096))
            tail = handle.read()
        if PLAIN_DUMP_TRAILER not in tail:
            return [f"{dump.name} does not end with pg_dump's completion line (truncated?)"]
        return []

    def archive_problems(self) -> list[str]:
        """Each .tar.gz read to its end: gzip checks its CRC there, tar its blocks (`gzip -t`, `tar -tzf`)."""
        problems = []
        for archive in sorted(self.path.glob("*.tar.gz")):
            try:
                _archive_digests(archive)
            except (OSError, EOFError, tarfile.TarError, zlib.error) as exc:
                problems.append(f"{archive.name} is not a whole archive ({type(exc).__name__}: {exc})")
        return problems

    def config_members(self) -> dict[str, str]:
        """Path inside the config archive → SHA-256 of its content, for every file in it."""
        archive = self.part("config")
        return _archive_digests(archive) if archive else {}

    def dump_size(self) -> int | None:
        dump = self.part("database")
        return dump.stat().st_size if dump else None


def _archive_digests(archive: Path) -> dict[str, str]:
    """Every file in a .tar.gz → its SHA-256, reading the archive to its very end."""
    digests = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.isfile():
                with tar.extractfile(member) as body:  # type: ignore[union-attr]
                    digests[member.name] = sha256_of_stream(body)
    return digests


class BackupStore:
    part = "backup store"

    def __init__(self, root: Path) -> None:
        self.root = root

    def sets(self) -> tuple[list[BackupSet], list[str]]:
        """The readable sets, oldest first, and a line for each folder that is not a readable set."""
        if not self.root.is_dir():
            raise ProbeError(self.part, str(self.root), "no such directory")
        found: list[BackupSet] = []
        unreadable: list[str] = []
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            record_file = folder / "backup.json"
            try:
                record = json.loads(record_file.read_text(encoding="utf-8"))
                backup = BackupSet(folder, record)
                backup.finished_at  # noqa: B018 - validates the record's timestamp
            except (OSError, ValueError, KeyError, TypeError) as exc:
                unreadable.append(f"{folder.name}: backup.json unreadable ({type(exc).__name__})")
                continue
            found.append(backup)
        found.sort(key=lambda s: s.finished_at)
        return found, unreadable

    def latest(self, kind: str, before: int = 0) -> BackupSet | None:
        """The newest set of `kind`, or the one `before` sets earlier."""
        of_kind = [s for s in self.sets()[0] if s.kind == kind]
        return of_kind[-1 - before] if len(of_kind) > before else None
