"""Faults of the backups, as a faulty job would have written them, and of what a restore brings back."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from sandbox import s3
from sandbox.errors import SandboxError
from sandbox.faults.base import BACKUPS, CRITICAL, DECLARED, ERROR, RESTORE, Fault, _put_back, _set_aside
from sandbox.state import Sandbox, State

DRILL = "checks/test_drill.py"
PRICES_KEPT = "checks/test_integrity.py::test_stock_prices_did_not_shrink_since_the_last_backup"
# An index over a function declared IMMUTABLE that is not: what a collation change after an OS upgrade
# does to a text index. The dump restores; amcheck's heapallindexed finds heap rows the index lost.
DRIFTING_INDEX = """
CREATE FUNCTION public.drifting(integer) RETURNS integer LANGUAGE sql IMMUTABLE
    AS $$ SELECT $1 + (random() * 1000000)::integer $$;
CREATE INDEX stock_prices_drifting ON public.stock_prices USING btree (public.drifting((id)::integer));
"""


def _latest_sets(sandbox: Sandbox, kind: str, count: int = 1) -> list[Path]:
    from sandbox.backup import sets_of_kind

    of_kind = sets_of_kind(sandbox, kind)
    if len(of_kind) < count:
        raise SandboxError(f"fewer than {count} {kind} backup set(s) to break")
    return of_kind[-count:]


def _keep_original(sandbox: Sandbox, fault: str, folder: Path) -> None:
    keep = sandbox.root / "faults" / fault / folder.name
    if not keep.exists():
        shutil.copytree(folder, keep)


def _restore_originals(fault: str) -> Callable[[Sandbox, State], None]:
    """Put back every set the fault changed, here and off-site."""

    def heal(sandbox: Sandbox, state: State) -> None:
        kept = sandbox.root / "faults" / fault
        if not kept.is_dir():
            return
        for original in kept.iterdir():
            for root in (sandbox.backups_local, sandbox.backups_offsite):
                shutil.rmtree(root / original.name, ignore_errors=True)
                shutil.copytree(original, root / original.name)
            _offsite_copy(sandbox, state, sandbox.backups_local / original.name)
        shutil.rmtree(kept)

    return heal


def _break_latest_daily(fault: str, mutate: Callable[[Path], bool], where: str = "both") -> tuple[Callable, Callable]:
    """Change the newest daily set as a faulty job would have written it: then synced off-site as it was.

    `mutate` returns whether the job would have checksummed what it changed. `where`: "both" (the job
    wrote it so and synced it), "local" (changed after the sync), "offsite" (a sync that went wrong).
    """
    from sandbox.backup import write_manifest

    def inject(sandbox: Sandbox, state: State) -> None:
        folder = _latest_sets(sandbox, "daily")[0]
        _keep_original(sandbox, fault, folder)
        offsite = sandbox.backups_offsite / folder.name
        if where == "offsite":
            if s3.uses_s3(state):  # a copy of the set, changed, then synced over the good one in the bucket
                changed = sandbox.root / "faults" / f"{fault}-offsite" / folder.name
                shutil.copytree(folder, changed)
                mutate(changed)
                s3.sync(sandbox, state, changed)
                shutil.rmtree(changed.parent)
            else:
                mutate(offsite)
            return
        if mutate(folder) and (folder / "SHA256SUMS").is_file():  # the manual's own job writes no manifest
            write_manifest(folder)
        if where == "both":
            _offsite_copy(sandbox, state, folder)

    return inject, _restore_originals(fault)  # spread into Fault(...) as its inject and heal


def _offsite_copy(sandbox: Sandbox, state: State, folder: Path) -> None:
    """The set synced off-site as it now is: into the bucket (the fleet), or the off-site folder."""
    if s3.uses_s3(state):
        names = {p.name for p in folder.iterdir()}
        for stale in {o["Key"].split("/", 1)[1] for o in _listed(sandbox, state, folder.name)} - names:
            s3.delete(sandbox, state, folder.name, stale)  # aws s3 sync --delete
        s3.sync(sandbox, state, folder)
    else:
        shutil.rmtree(sandbox.backups_offsite / folder.name, ignore_errors=True)
        shutil.copytree(folder, sandbox.backups_offsite / folder.name)


def _listed(sandbox: Sandbox, state: State, set_name: str) -> list[dict]:
    return s3.client(sandbox, state).list_objects_v2(Bucket=s3.BUCKET, Prefix=f"{set_name}/").get("Contents", [])


def _offsite_object_gone(sandbox: Sandbox, state: State) -> None:
    """The sync stopped half way: the newest daily set's dump never reached the off-site copy."""
    folder = _latest_sets(sandbox, "daily")[0]
    _keep_original(sandbox, "offsite-object-missing", folder)
    dump = next(folder.glob("database_*")).name
    if s3.uses_s3(state):
        s3.delete(sandbox, state, folder.name, dump)
    else:
        (sandbox.backups_offsite / folder.name / dump).unlink()


def _offsite_set_never_synced(sandbox: Sandbox, state: State) -> None:
    """The sync after last night's backup did not run: the newest daily set is not off-site at all."""
    folder = _latest_sets(sandbox, "daily")[0]
    _keep_original(sandbox, "offsite-set-stale", folder)
    if s3.uses_s3(state):
        s3.delete(sandbox, state, folder.name)
    else:
        shutil.rmtree(sandbox.backups_offsite / folder.name)


def _drop_config_archive(folder: Path) -> bool:
    """The job's tar step failed; it wrote a manifest of what it did have."""
    for archive in folder.glob("config_*"):
        archive.unlink()
    return True


def _empty_dump(folder: Path) -> bool:
    """pg_dump wrote nothing and the job checksummed the empty file anyway (GitLab, 2017)."""
    next(folder.glob("database_*")).write_bytes(b"")
    return True


def _flip_a_byte(folder: Path) -> bool:
    """One price's first decimal digit in the middle of the dump changed after it was written (bad disk, bad
    copy): the dump still restores, with one value silently wrong."""
    dump = next(folder.glob("database_*"))
    content = bytearray(dump.read_bytes())
    at = content.index(b".", len(content) // 2) + 1
    while not chr(content[at]).isdigit():
        at = content.index(b".", at) + 1
    content[at] = ord(str((int(chr(content[at])) + 1) % 10))
    dump.write_bytes(bytes(content))
    return False


def _cut_logs_archive(folder: Path) -> bool:
    """The logs archive cut short (a full disk during tar), then checksummed as it was."""
    archive = next(folder.glob("logs_*"))
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    return True


def _drop_most_prices(folder: Path) -> bool:
    """pg_dump 'succeeded' while most of stock_prices was missing (a purge gone wrong the hour before)."""
    dump = next(folder.glob("database_*"))
    out, in_prices, kept = [], False, 0
    for line in dump.read_text().splitlines(keepends=True):
        if line.startswith("COPY public.stock_prices "):
            in_prices = True
        elif in_prices and line.startswith("\\."):
            in_prices = False
        elif in_prices:
            kept += 1
            if kept % 10:
                continue
        out.append(line)
    dump.write_text("".join(out))
    return True


def _cut_dump(folder: Path) -> bool:
    """The dump stops at 60 % (the disk filled while pg_dump wrote), and the job checksummed it anyway."""
    dump = next(folder.glob("database_*"))
    dump.write_bytes(dump.read_bytes()[: dump.stat().st_size * 6 // 10])
    return True


def _add_drifting_index(folder: Path) -> bool:
    dump = next(folder.glob("database_*"))
    text = dump.read_text()
    trailer = text.rindex("--\n-- PostgreSQL database dump complete")
    dump.write_text(text[:trailer] + DRIFTING_INDEX + "\n" + text[trailer:])
    return True


def _old_dump_tool(folder: Path) -> bool:
    """The job's record says pg_dump 13; where it keeps none, the dump's own header says so."""
    if (folder / "backup.json").is_file():
        record = json.loads((folder / "backup.json").read_text())
        record["tool"] = "pg_dump (PostgreSQL) 13.14"
        (folder / "backup.json").write_text(json.dumps(record, indent=2))
        return False
    dump = next(folder.glob("database_*"))
    dump.write_text(
        re.sub(r"Dumped by pg_dump version [\d.]+", "Dumped by pg_dump version 13.14", dump.read_text(), count=1)
    )
    return True


def _unreadable_set(sandbox: Sandbox, state: State) -> None:
    folder = sandbox.backups_local / "20000101_000000"
    folder.mkdir()
    (folder / "backup.json").write_text("{ half a record")


def _remove_unreadable_set(sandbox: Sandbox, state: State) -> None:
    shutil.rmtree(sandbox.backups_local / "20000101_000000", ignore_errors=True)


def _edit_config(sandbox: Sandbox, state: State) -> None:
    """Someone's hand edit survived the restore: the config is not what the archive holds."""
    config = sandbox.config_dir / "app.toml"
    keep = sandbox.root / "faults" / "config-not-restored"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy2(config, keep / "app.toml")
    config.write_text(config.read_text() + "\ndb_pool_max = 200  # hand edit, never archived\n")


def _put_config_back(sandbox: Sandbox, state: State) -> None:
    kept = sandbox.root / "faults" / "config-not-restored" / "app.toml"
    if kept.exists():
        shutil.copy2(kept, sandbox.config_dir / "app.toml")
        shutil.rmtree(kept.parent)


FAULTS: list[Fault] = [
    Fault("backup-stale", "the daily backup job stopped two nights ago", ("D5", "B1"),
          {f"{BACKUPS}::test_latest_backup_is_fresh[daily]": ERROR},
          _set_aside("backup-stale", lambda sb: _latest_sets(sb, "daily", 2)),
          _put_back("backup-stale", lambda sb: sb.backups_local),
          also={"drill": {f"{DRILL}::test_recovery_objectives_are_met": ERROR}}),
    Fault("backup-incomplete", "the latest daily set lacks its config archive", ("D5", "B2"),
          {f"{BACKUPS}::test_latest_backup_holds_every_part[daily]": ERROR},
          *_break_latest_daily("backup-incomplete", _drop_config_archive)),
    Fault("backup-empty-dump", "the latest daily dump is empty (and checksummed as such)", ("D5", "B2"),
          {f"{BACKUPS}::test_latest_backup_is_intact[daily]": CRITICAL,
           f"{BACKUPS}::test_latest_dump_is_not_much_smaller_than_the_one_before": ERROR},
          *_break_latest_daily("backup-empty-dump", _empty_dump),
          also={"drill": {f"{DRILL}::test_restored_data_matches_the_backup_record": CRITICAL}},
          # With no record, D4 has no rows to compare the live table with, D5 no word of the dump's tool.
          on={"manual": {"daily": {f"{BACKUPS}::test_latest_backup_is_intact[daily]": CRITICAL,
                                   f"{BACKUPS}::test_latest_dump_is_not_much_smaller_than_the_one_before": ERROR,
                                   f"{BACKUPS}::test_dump_tool_is_not_older_than_the_server": ERROR,
                                   f"{PRICES_KEPT}": CRITICAL}}}),
    Fault("backup-corrupt", "a byte in the middle of the latest daily dump is flipped", ("D5", "B2"),
          {f"{BACKUPS}::test_latest_backup_is_intact[daily]": CRITICAL,
           f"{BACKUPS}::test_offsite_copy_matches_the_local_set[daily]": ERROR},  # flipped after the sync
          *_break_latest_daily("backup-corrupt", _flip_a_byte, where="local"),
          also={"drill": {f"{DRILL}::test_restored_data_matches_the_backup_record": CRITICAL}},
          shapes=("default",)),  # no manifest, no record: a value silently changed is beyond telling (README)
    Fault("backup-archive-cut", "the latest daily logs archive is cut in half, then checksummed", ("D5", "B2"),
          {f"{BACKUPS}::test_latest_backup_is_intact[daily]": CRITICAL},
          *_break_latest_daily("backup-archive-cut", _cut_logs_archive)),
    Fault("backup-shrunk", "the latest daily dump holds a tenth of stock_prices (whole, checksummed)", ("D5",),
          {f"{BACKUPS}::test_latest_dump_is_not_much_smaller_than_the_one_before": ERROR},
          *_break_latest_daily("backup-shrunk", _drop_most_prices),
          also={"drill": {f"{DRILL}::test_restored_data_matches_the_backup_record": CRITICAL}},
          on={"manual": {"drill": {}}}),  # the dump is its own record there: it restores what it holds
    Fault("backup-truncated", "the latest daily dump stops at 60 %, checksummed as it was", ("D5", "W5", "MM3"),
          {f"{BACKUPS}::test_latest_backup_is_intact[daily]": CRITICAL,
           f"{BACKUPS}::test_latest_dump_is_not_much_smaller_than_the_one_before": ERROR},
          *_break_latest_daily("backup-truncated", _cut_dump),
          also={"drill": {f"{DRILL}::*": DECLARED}}),
    Fault("backup-index-drift", "the latest dump builds an index that loses rows (a collation change)",
          ("W5", "MM3"), {}, *_break_latest_daily("backup-index-drift", _add_drifting_index),
          also={"drill": {f"{DRILL}::test_restored_database_passes_amcheck": CRITICAL}}),
    Fault("backup-old-tool", "the latest daily dump was taken with pg_dump 13 against a 15 server", ("D5",),
          {f"{BACKUPS}::test_dump_tool_is_not_older_than_the_server": ERROR},
          *_break_latest_daily("backup-old-tool", _old_dump_tool)),
    Fault("backup-offsite-differs", "a byte of the off-site copy of the latest daily dump differs", ("D5", "B2"),
          {f"{BACKUPS}::test_offsite_copy_matches_the_local_set[daily]": ERROR},
          *_break_latest_daily("backup-offsite-differs", _flip_a_byte, where="offsite")),
    Fault("offsite-object-missing", "the newest daily set's dump never reached the off-site copy", ("D5", "B2"),
          {f"{BACKUPS}::test_offsite_copy_matches_the_local_set[daily]": ERROR}, _offsite_object_gone,
          _restore_originals("offsite-object-missing")),
    Fault("offsite-set-stale", "the sync after last night's backup did not run", ("D5", "B2"),
          {f"{BACKUPS}::test_offsite_copy_matches_the_local_set[daily]": ERROR}, _offsite_set_never_synced,
          _restore_originals("offsite-set-stale")),
    Fault("backup-unreadable", "a backup folder whose backup.json is cut short", ("D5",),
          {f"{BACKUPS}::test_every_backup_set_is_readable": ERROR}, _unreadable_set, _remove_unreadable_set,
          shapes=("default",)),  # the manual's job writes no record to be unreadable
    Fault("config-not-restored", "app.toml differs from the config archive (a hand edit survived)", ("R2",),
          {}, _edit_config, _put_config_back,
          also={"post_restore": {f"{RESTORE}::test_configuration_matches_the_config_archive[sandbox]": ERROR}}),
]  # fmt: skip
