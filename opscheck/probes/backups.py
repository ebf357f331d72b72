"""Backup store probe: the manual's layout, `<root>/<YYYYmmdd_HHMMSS>/`, one folder a backup set.

A set holds what the manual's daily_backup.sh writes (`database_<ts>.sql`, `config_<ts>.tar.gz`,
`logs_<ts>.tar.gz`), found by the target's patterns. Its kind comes from the job's own record where
the set has one (`backup.json`), else from where or how it is named, else from when it was taken
(opscheck.judge.backup_kinds). A manifest (`SHA256SUMS`) is verified where present; the dump itself
says whether it is whole and how many rows it holds (opscheck.probes.dumps). Everything is read on the
host that holds the sets (opscheck.probes.files): a dump is inspected where it lies, never copied.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from opscheck.errors import ProbeError
from opscheck.judge.backup_kinds import Taken, kinds_by_schedule
from opscheck.probes.files import LOCAL, Entry, Files
from opscheck.target.backups import Backups

KINDS = ("hourly", "daily", "weekly")
NO_DUMP = {"format": "missing", "size": 0, "complete": False, "tool": None, "rows": {}, "problem": None}


@dataclass(frozen=True, eq=False)
class BackupSet:
    path: str  # the set's folder, on the host `files` reads
    spec: Backups
    stamp: datetime  # when the set's name says it was taken
    record: dict[str, Any] = field(default_factory=dict)  # the job's own record, where it wrote one
    kind: str = "unscheduled"  # hourly, daily, weekly; unscheduled: no schedule explains it (a set made by hand)
    files: Files = LOCAL

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @functools.cached_property
    def entries(self) -> list[Entry]:
        return self.files.entries(self.path) or []

    def file_entries(self) -> dict[str, Entry]:
        return {e.name: e for e in self.entries if e.kind == "f"}

    def digest(self, name: str, algorithm: str = "sha256") -> str | None:
        return self.files.facts("digest", f"{self.path}/{name}", algorithm)

    @functools.cached_property
    def finished_at(self) -> datetime:
        """The record's time, else when the set's last file was written (the job's end)."""
        if "finished_at" in self.record:
            return datetime.fromisoformat(self.record["finished_at"]).astimezone(UTC)
        newest = max((e.mtime for e in self.entries), default=self.stamp.timestamp())
        return datetime.fromtimestamp(newest, UTC)

    def part(self, name: str) -> str | None:
        """The set's file (or dump folder) of part `name` (database, config, logs), by the target's patterns."""
        for pattern in getattr(self.spec.parts, name):
            matches = sorted(e.name for e in self.entries if fnmatch.fnmatchcase(e.name, pattern))
            if matches:
                return f"{self.path}/{matches[0]}"
        return None

    def parts_present(self) -> int:
        return sum(self.part(name) is not None for name in ("database", "config", "logs"))

    def missing_parts(self) -> list[str]:
        return [name for name in self.spec.required.get(self.kind, ["database"]) if self.part(name) is None]

    def empty_parts(self) -> list[str]:
        return [f"{name} is empty" for name, e in self.file_entries().items() if e.size == 0]

    def manifest_problems(self) -> list[str]:
        """Where the set has a manifest, every file it lists must be there and match, and every file be listed."""
        present = self.file_entries()
        if self.spec.manifest not in present:
            return [f"no {self.spec.manifest} manifest"] if self.spec.require_manifest else []
        listed: dict[str, str] = {}
        for line in self.files.read_text(f"{self.path}/{self.spec.manifest}").splitlines():
            digest, _, name = line.partition(" ")
            if name:
                listed[name.strip().lstrip("*")] = digest.strip().lower()
        problems = []
        for name, digest in listed.items():
            if name not in present:
                problems.append(f"{name} listed in {self.spec.manifest} but missing")
            elif self.digest(name, self.spec.manifest_algorithm) != digest:
                problems.append(f"{name} does not match its {self.spec.manifest} digest")
        unlisted = present.keys() - listed.keys() - {self.spec.manifest, self.spec.record}
        problems.extend(f"{name} not listed in {self.spec.manifest}" for name in sorted(unlisted))
        return problems

    @functools.cached_property
    def dump_facts(self) -> dict[str, Any]:
        """What the dump holds, read once a run where it lies (opscheck.probes.dumps.inspect_dump)."""
        dump = self.part("database")
        if dump is None:
            return dict(NO_DUMP)
        return self.files.facts("inspect_dump", dump, None, 3600, [self.spec.prices_table, "date"])

    def dump_problems(self) -> list[str]:
        dump, facts = self.part("database"), self.dump_facts
        if dump is None or not facts["problem"] or facts["size"] == 0:  # an empty part is named once, as empty
            return []
        return [f"{os.path.basename(dump)} {facts['problem']}"]

    def archive_problems(self) -> list[str]:
        """Each tar archive of the set read to its end: gzip checks its CRC there, tar its blocks."""
        archives = [a for a in (self.part("config"), self.part("logs")) if a is not None]
        found = [(a, self.files.facts("archive_members", a)) for a in archives]
        return [f"{os.path.basename(archive)} {facts['problem']}" for archive, facts in found if facts["problem"]]

    def config_members(self) -> dict[str, str]:
        """Path inside the config archive → SHA-256 of its content, for every file in it."""
        archive = self.part("config")
        return self.files.facts("archive_members", archive)["members"] if archive else {}

    def dump_size(self) -> int | None:
        return self.dump_facts["size"] if self.part("database") else None

    def row_counts(self) -> dict[str, int]:
        """Rows per table the dump holds, counted as it streams (what a restore would give, whatever the job
        recorded of the database); the job's record of them only where the set has no dump."""
        if self.part("database") is not None:
            return dict(self.dump_facts["rows"])
        recorded = (self.record.get("figures") or {}).get("row_counts")
        return dict(recorded) if isinstance(recorded, dict) else {}

    def recorded_rows(self) -> dict[str, int]:
        """Rows per table the database held when the set was taken: the job's record of them, else the dump's."""
        recorded = (self.record.get("figures") or {}).get("row_counts")
        return dict(recorded) if isinstance(recorded, dict) else self.row_counts()

    def tool(self) -> str | None:
        """The pg_dump that took the dump: as recorded, else as the dump's own header says."""
        return str(self.record["tool"]) if self.record.get("tool") else self.dump_facts["tool"]


class BackupStore:
    part = "backup store"

    def __init__(self, spec: Backups, zone: tzinfo, root: str | None = None, files: Files = LOCAL) -> None:
        self.spec = spec
        self.zone = zone
        self.root = str(root or spec.root)
        self.files = files

    @property
    def place(self) -> str:
        return f"{self.root} on {self.files.where}"

    @functools.cache  # noqa: B019 - one store per session: its sets are listed once
    def sets(self) -> tuple[list[BackupSet], list[str]]:
        """The readable sets, oldest first, and a line for each folder that is not a readable set."""
        if self.files.entries(self.root) is None:
            raise self.files.missing(self.part, self.root, "no such directory")
        found: list[BackupSet] = []
        unreadable: list[str] = []
        for folder, kind in self._folders():
            backup, problem = self._read(folder, kind)
            if problem:
                unreadable.append(f"{folder.name}: {problem}")
            elif backup is not None:
                found.append(backup)
        found = self._with_kinds(found)
        found.sort(key=lambda s: s.finished_at)
        return found, unreadable

    def _folders(self) -> list[tuple[Entry, str | None]]:
        """Every folder that may be a set (named by its path), with the kind its place says (a kind's own root)."""
        places = [(self.root, None)] + [(str(p.root), kind) for kind, p in self.spec.kinds.items() if p.root]
        folders = []
        for root, kind in places:
            for entry in sorted(self.files.entries(root) or [], key=lambda e: e.name):
                if entry.kind == "d":
                    folders.append((Entry(f"{root}/{entry.name}", entry.kind, entry.size, entry.mtime), kind))
        return folders

    def _read(self, folder: Entry, kind: str | None) -> tuple[BackupSet | None, str | None]:
        name = os.path.basename(folder.name)
        held = {e.name: e for e in self.files.entries(folder.name) or []}
        try:
            stamp = datetime.strptime(name, self.spec.set_name).replace(tzinfo=self.zone)
        except ValueError:
            if self.spec.record not in held:
                return None, f"not named as a set ({self.spec.set_name})"
            stamp = datetime.fromtimestamp(folder.mtime, UTC)
        record: dict[str, Any] = {}
        if self.spec.record in held:
            try:
                record = json.loads(self.files.read_text(f"{folder.name}/{self.spec.record}"))
                if not isinstance(record, dict):
                    raise TypeError("not an object")
                if "finished_at" in record:
                    datetime.fromisoformat(record["finished_at"])
            except (OSError, ProbeError, ValueError, KeyError, TypeError) as exc:
                return None, f"{self.spec.record} unreadable ({type(exc).__name__})"
        chosen = record.get("kind") if record.get("kind") in KINDS else kind
        chosen = chosen or next((k for k, p in self.spec.kinds.items() if p.pattern and
                                 fnmatch.fnmatch(name, p.pattern)), None)  # fmt: skip
        return BackupSet(folder.name, self.spec, stamp, record, chosen or "unscheduled", self.files), None

    def _with_kinds(self, found: list[BackupSet]) -> list[BackupSet]:
        """Sets no record, place or name told the kind of: the kind whose schedule fired just before it was taken."""
        untold = [s for s in found if s.kind == "unscheduled"]
        if not untold:
            return found
        window = timedelta(minutes=self.spec.kind_window_minutes)
        taken = [Taken(s.name, s.stamp, s.parts_present()) for s in untold]
        kinds = kinds_by_schedule(taken, self.spec.schedules, window)
        told = {s.name: BackupSet(s.path, s.spec, s.stamp, s.record, kinds[s.name], s.files)
                for s in untold if s.name in kinds}  # fmt: skip
        return [told.get(s.name, s) if s.kind == "unscheduled" else s for s in found]

    def latest(self, kind: str, before: int = 0) -> BackupSet | None:
        """The newest set of `kind`, or the one `before` sets earlier."""
        of_kind = [s for s in self.sets()[0] if s.kind == kind]
        return of_kind[-1 - before] if len(of_kind) > before else None


def copy_differences(local: BackupSet, copy: BackupSet) -> list[str]:
    """How a copy of a set (off-site) differs from it, file for file: missing, of another size, other content."""
    problems = []
    theirs = copy.file_entries()
    for name, entry in sorted(local.file_entries().items()):
        other = theirs.get(name)
        if other is None:
            problems.append(f"{name} is missing")
        elif other.size != entry.size:
            problems.append(f"{name} is {other.size} bytes, {entry.size} here")
        elif copy.digest(name) != local.digest(name):
            bad_here = any(p.startswith(name + " ") for p in local.manifest_problems())
            problems.append(
                f"{name} differs in content"
                + (" (here it fails its manifest: the off-site copy is the one to restore from)" if bad_here else "")
            )
    return problems
