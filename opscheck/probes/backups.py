"""Backup store probe: the manual's layout, `<root>/<YYYYmmdd_HHMMSS>/`, one folder a backup set.

A set holds what the manual's daily_backup.sh writes (`database_<ts>.sql`, `config_<ts>.tar.gz`,
`logs_<ts>.tar.gz`), found by the target's patterns. Its kind comes from the job's own record where
the set has one (`backup.json`), else from where or how it is named, else from when it was taken
(opscheck.judge.backup_kinds). A manifest (`SHA256SUMS`) is verified where present; the dump itself
says whether it is whole and how many rows it holds (opscheck.probes.dumps).
"""

from __future__ import annotations

import fnmatch
import functools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from opscheck.errors import ProbeError
from opscheck.judge.backup_kinds import Taken, kinds_by_schedule
from opscheck.probes import dumps
from opscheck.target.backups import Backups

KINDS = ("hourly", "daily", "weekly")


@dataclass(frozen=True, eq=False)
class BackupSet:
    path: Path
    spec: Backups
    stamp: datetime  # when the set's name says it was taken
    record: dict[str, Any] = field(default_factory=dict)  # the job's own record, where it wrote one
    kind: str = "unscheduled"  # hourly, daily, weekly; unscheduled: no schedule explains it (a set made by hand)

    @property
    def name(self) -> str:
        return self.path.name

    @functools.cached_property
    def finished_at(self) -> datetime:
        """The record's time, else when the set's last file was written (the job's end)."""
        if "finished_at" in self.record:
            return datetime.fromisoformat(self.record["finished_at"]).astimezone(UTC)
        files = [p for p in self.path.rglob("*") if p.is_file()]
        newest = max((p.stat().st_mtime for p in files), default=self.stamp.timestamp())
        return datetime.fromtimestamp(newest, UTC)

    def part(self, name: str) -> Path | None:
        """The set's file (or dump folder) of part `name` (database, config, logs), by the target's patterns."""
        for pattern in getattr(self.spec.parts, name):
            matches = sorted(self.path.glob(pattern))
            if matches:
                return matches[0]
        return None

    def parts_present(self) -> int:
        return sum(self.part(name) is not None for name in ("database", "config", "logs"))

    def missing_parts(self) -> list[str]:
        return [name for name in self.spec.required.get(self.kind, ["database"]) if self.part(name) is None]

    def empty_parts(self) -> list[str]:
        return [f"{p.name} is empty" for p in self.path.iterdir() if p.is_file() and p.stat().st_size == 0]

    def manifest_problems(self) -> list[str]:
        """Where the set has a manifest, every file it lists must be there and match, and every file be listed."""
        manifest = self.path / self.spec.manifest
        if not manifest.is_file():
            return [f"no {self.spec.manifest} manifest"] if self.spec.require_manifest else []
        listed: dict[str, str] = {}
        for line in manifest.read_text(encoding="utf-8", errors="replace").splitlines():
            digest, _, name = line.partition(" ")
            if name:
                listed[name.strip().lstrip("*")] = digest.strip().lower()
        problems = []
        for name, digest in listed.items():
            file = self.path / name
            if not file.is_file():
                problems.append(f"{name} listed in {self.spec.manifest} but missing")
            elif dumps.digest(str(file), self.spec.manifest_algorithm) != digest:
                problems.append(f"{name} does not match its {self.spec.manifest} digest")
        unlisted = {p.name for p in self.path.iterdir() if p.is_file()} - listed.keys() - self._own_files()
        problems.extend(f"{name} not listed in {self.spec.manifest}" for name in sorted(unlisted))
        return problems

    def _own_files(self) -> set[str]:
        return {self.spec.manifest, self.spec.record}

    @functools.cached_property
    def dump_facts(self) -> dict[str, Any]:
        """What the dump holds, read once a run (opscheck.probes.dumps.inspect_dump)."""
        dump = self.part("database")
        if dump is None:
            return {"format": "missing", "size": 0, "complete": False, "tool": None, "rows": {}, "problem": None}
        return dumps.inspect_dump(str(dump), newest=(self.spec.prices_table, "date"))

    def dump_problems(self) -> list[str]:
        dump, facts = self.part("database"), self.dump_facts
        if dump is None or not facts["problem"] or facts["size"] == 0:  # an empty part is named once, as empty
            return []
        return [f"{dump.name} {facts['problem']}"]

    def archive_problems(self) -> list[str]:
        """Each tar archive of the set read to its end: gzip checks its CRC there, tar its blocks."""
        archives = [self.part(name) for name in ("config", "logs")]
        found = [(a, dumps.archive_members(str(a))) for a in archives if a is not None]
        return [f"{archive.name} {facts['problem']}" for archive, facts in found if facts["problem"]]

    def config_members(self) -> dict[str, str]:
        """Path inside the config archive → SHA-256 of its content, for every file in it."""
        archive = self.part("config")
        return dumps.archive_members(str(archive))["members"] if archive else {}

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

    def __init__(self, spec: Backups, zone: tzinfo, root: Path | None = None) -> None:
        self.spec = spec
        self.zone = zone
        self.root = root or spec.root

    @functools.cache  # noqa: B019 - one store per session: its sets are listed once
    def sets(self) -> tuple[list[BackupSet], list[str]]:
        """The readable sets, oldest first, and a line for each folder that is not a readable set."""
        if not self.root.is_dir():
            raise ProbeError(self.part, str(self.root), "no such directory")
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

    def _folders(self) -> list[tuple[Path, str | None]]:
        """Every folder that may be a set, with the kind its place says (a kind's own root)."""
        places = [(self.root, None)] + [(p.root, kind) for kind, p in self.spec.kinds.items() if p.root]
        folders = []
        for root, kind in places:
            if root.is_dir():
                folders += [(p, kind) for p in sorted(root.iterdir()) if p.is_dir()]
        return folders

    def _read(self, folder: Path, kind: str | None) -> tuple[BackupSet | None, str | None]:
        try:
            stamp = datetime.strptime(folder.name, self.spec.set_name).replace(tzinfo=self.zone)
        except ValueError:
            if (folder / self.spec.record).is_file():
                stamp = datetime.fromtimestamp(folder.stat().st_mtime, UTC)
            else:
                return None, f"not named as a set ({self.spec.set_name})"
        record: dict[str, Any] = {}
        record_file = folder / self.spec.record
        try:
            if record_file.is_file():
                record = json.loads(record_file.read_text(encoding="utf-8"))
                if not isinstance(record, dict):
                    raise TypeError("not an object")
                if "finished_at" in record:
                    datetime.fromisoformat(record["finished_at"])
            else:
                next(folder.iterdir(), None)  # a folder that cannot be listed is not readable
        except (OSError, ValueError, KeyError, TypeError) as exc:
            return None, f"{record_file.name if record_file.exists() else 'folder'} unreadable ({type(exc).__name__})"
        chosen = record.get("kind") if record.get("kind") in KINDS else kind
        chosen = chosen or next((k for k, p in self.spec.kinds.items() if p.pattern and
                                 fnmatch.fnmatch(folder.name, p.pattern)), None)  # fmt: skip
        return BackupSet(folder, self.spec, stamp, record, chosen or "unscheduled"), None

    def _with_kinds(self, found: list[BackupSet]) -> list[BackupSet]:
        """Sets no record, place or name told the kind of: the kind whose schedule fired just before it was taken."""
        untold = [s for s in found if s.kind == "unscheduled"]
        if not untold:
            return found
        window = timedelta(minutes=self.spec.kind_window_minutes)
        taken = [Taken(s.name, s.stamp, s.parts_present()) for s in untold]
        kinds = kinds_by_schedule(taken, self.spec.schedules, window)
        told = {s.name: BackupSet(s.path, s.spec, s.stamp, s.record, kinds[s.name]) for s in untold if s.name in kinds}
        return [told.get(s.name, s) if s.kind == "unscheduled" else s for s in found]

    def latest(self, kind: str, before: int = 0) -> BackupSet | None:
        """The newest set of `kind`, or the one `before` sets earlier."""
        of_kind = [s for s in self.sets()[0] if s.kind == kind]
        return of_kind[-1 - before] if len(of_kind) > before else None


def copy_differences(local: BackupSet, copy: BackupSet) -> list[str]:
    """How a copy of a set (off-site) differs from it, file for file: missing, of another size, other content."""
    problems = []
    for file in sorted(p for p in local.path.iterdir() if p.is_file()):
        other = copy.path / file.name
        if not other.is_file():
            problems.append(f"{file.name} is missing")
        elif other.stat().st_size != file.stat().st_size:
            problems.append(f"{file.name} is {other.stat().st_size} bytes, {file.stat().st_size} here")
        elif dumps.digest(str(other)) != dumps.digest(str(file)):
            bad_here = any(p.startswith(file.name + " ") for p in local.manifest_problems())
            problems.append(
                f"{file.name} differs in content"
                + (" (here it fails its manifest: the off-site copy is the one to restore from)" if bad_here else "")
            )
    return problems
