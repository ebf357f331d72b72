"""D5 / B2 — バックアップ状況の確認: the latest hourly, daily and weekly sets exist, are fresh and whole.

A backup that is missing or late is an ERROR; one that exists but cannot restore (empty,
cut short, not matching its checksums) is a データ損失リスク: CRITICAL.
"""

import re
import shlex
from datetime import UTC, datetime

import pytest

from opscheck.plugin.parameters import on_hosts_with_role
from opscheck.probes.backups import KINDS, BackupStore

pytestmark = [pytest.mark.daily, pytest.mark.morning]

CRON = {
    "hourly": "0 * * * * /opt/miraikakaku/scripts/hourly_backup.sh",
    "daily": "0 3 * * * /opt/miraikakaku/scripts/daily_backup.sh",
    "weekly": "0 4 * * 0 /opt/miraikakaku/scripts/weekly_backup.sh",
}


def _latest(backups, kind):
    latest = backups.latest(kind)
    assert latest is not None, (
        f"no {kind} backup set in {backups.root}. Manual: check the cron entry `{CRON[kind]}` "
        "and the job's log, then run it by hand"
    )
    return latest


@pytest.mark.checklist("D5", "B1")
@pytest.mark.level("error")
@pytest.mark.parametrize("kind", KINDS)
def test_latest_backup_is_fresh(backups, thresholds, kind):
    latest = _latest(backups, kind)
    age_h = (datetime.now(UTC) - latest.finished_at).total_seconds() / 3600
    limit_h = getattr(thresholds.backup_max_age_hours, kind)
    assert age_h <= limit_h, (
        f"the newest {kind} backup ({latest.name}) finished {age_h:.1f} h ago; limit {limit_h:g} h. "
        f"Manual: the {kind} job has stopped running; check `{CRON[kind]}` and run it by hand"
    )


@pytest.mark.checklist("D5", "B2")
@pytest.mark.level("error")
@pytest.mark.parametrize("kind", KINDS)
def test_latest_backup_holds_every_part(backups, kind):
    latest = _latest(backups, kind)
    missing = latest.missing_parts()
    assert not missing, (
        f"{kind} backup {latest.name} lacks its {', '.join(missing)} archive(s). "
        "Manual (daily_backup.sh): a set holds database_<ts>.sql, config_<ts>.tar.gz and logs_<ts>.tar.gz"
    )


@pytest.mark.checklist("D5", "B2")
@pytest.mark.level("critical")
@pytest.mark.parametrize("kind", KINDS)
def test_latest_backup_is_intact(backups, kind):
    latest = _latest(backups, kind)
    problems = latest.empty_parts() + latest.checksum_problems() + latest.dump_problems() + latest.archive_problems()
    assert not problems, (
        f"{kind} backup {latest.name} cannot be trusted to restore: {'; '.join(problems)}. "
        "Manual (CRITICAL, データ損失リスク): take a new backup now and find why this one is damaged"
    )


@pytest.mark.checklist("D5")
@pytest.mark.level("error")
def test_every_backup_set_is_readable(backups):
    _, unreadable = backups.sets()
    assert not unreadable, (
        f"{len(unreadable)} folder(s) in {backups.root} are not readable backup sets: {'; '.join(unreadable)}"
    )


@pytest.mark.checklist("D5", "B2")
@pytest.mark.level("error")
@pytest.mark.parametrize("kind", KINDS)
def test_offsite_copy_matches_the_local_set(backups, target, kind):
    """The manual's `aws s3 sync`: the newest set is off-site too, file for file (its manifest checked there)."""
    offsite_root = target.spec.backups.offsite
    if offsite_root is None:
        pytest.skip("the target declares no off-site copy ([backups] offsite)")
    latest = _latest(backups, kind)
    offsite = next((s for s in BackupStore(offsite_root).sets()[0] if s.name == latest.name), None)
    assert offsite is not None, (
        f"{kind} backup {latest.name} is not in the off-site copy {offsite_root}. "
        "Manual: the sync after the backup failed; run it by hand (aws s3 sync) and read its log"
    )
    local_manifest = (latest.path / "SHA256SUMS").read_bytes()
    problems = offsite.checksum_problems()
    if (offsite.path / "SHA256SUMS").is_file() and (offsite.path / "SHA256SUMS").read_bytes() != local_manifest:
        problems.insert(0, "its SHA256SUMS differs from the local set's")
    assert not problems, f"the off-site copy of {kind} backup {latest.name} differs: {'; '.join(problems)}"


@pytest.mark.checklist("D5")
@pytest.mark.level("error")
def test_latest_dump_is_not_much_smaller_than_the_one_before(backups, target):
    """A dump far smaller than yesterday's lost data on the way (GitLab, 2017: dumps of a few bytes, for months)."""
    latest, before = backups.latest("daily"), backups.latest("daily", before=1)
    if latest is None or before is None or not before.dump_size():
        pytest.skip("fewer than two daily sets with a dump: nothing to compare with")
    ratio = (latest.dump_size() or 0) / before.dump_size()
    floor = target.spec.backups.min_size_ratio
    assert ratio >= floor, (
        f"daily dump {latest.name} is {latest.dump_size()} bytes, {100 * ratio:.0f} % of the one before "
        f"({before.name}, {before.dump_size()} bytes; at least {100 * floor:.0f} % expected). "
        "Manual: compare the two dumps' tables; find what the job skipped or what was deleted"
    )


@pytest.mark.checklist("D5")
@pytest.mark.level("error")
def test_dump_tool_is_not_older_than_the_server(backups, db):
    """pg_dump older than the server cannot be trusted with its catalog (and refuses newer majors)."""
    latest = _latest(backups, "daily")
    tool = str(latest.record.get("tool", ""))
    found = re.search(r"(\d+)(?:\.(\d+))?", tool)
    assert found, f'backup {latest.name} does not record its dump tool\'s version (backup.json "tool"; see README)'
    server = int(db.value("SHOW server_version_num"))
    tool_version = int(found[1]) * 10000 + int(found[2] or 0)
    assert tool_version // 10000 >= server // 10000, (
        f"backup {latest.name} was taken with {tool!r}, older than the server (PostgreSQL {server // 10000}). "
        "Manual: install the server's pg_dump on the backup host and point the job at it"
    )


CRON_MACROS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0"}


def _schedule(line: str) -> tuple[str, str] | None:
    """(schedule, command) of a crontab line, macros spelled out and Sunday as 0; None for anything else."""
    fields = line.split()
    if not fields or fields[0].startswith("#") or "=" in fields[0]:
        return None
    if fields[0] in CRON_MACROS:
        return CRON_MACROS[fields[0]], " ".join(fields[1:])
    if len(fields) < 6:
        return None
    minute, hour, day, month, weekday = fields[:5]
    return " ".join([minute, hour, day, month, "0" if weekday == "7" else weekday]), " ".join(fields[5:])


@on_hosts_with_role("backup")
@pytest.mark.weekly
@pytest.mark.checklist("B1")
@pytest.mark.level("error")
@pytest.mark.parametrize("kind", KINDS)
def test_backup_job_is_scheduled(host, host_spec, target, kind):
    spec = target.spec.backups
    if spec is None:
        pytest.skip("the target declares no backups ([backups] absent)")
    source = f"cat {shlex.quote(str(spec.crontab))}" if spec.crontab else "crontab -l"
    listed = host.run(source)
    assert listed.rc == 0, f"cannot read the cron entries on {host_spec.name} ({source}): {listed.stderr.strip()}"
    entries = [e for e in map(_schedule, listed.stdout.splitlines()) if e and spec.jobs[kind] in e[1]]
    wanted = spec.schedules[kind]
    assert any(schedule == wanted for schedule, _ in entries), (
        f"on {host_spec.name}, no cron entry runs the {kind} backup ({spec.jobs[kind]!r}) at {wanted!r}"
        + (f"; found it at {', '.join(repr(s) for s, _ in entries)}" if entries else "")
        + f". Manual (B1): `{CRON[kind]}` in the backup host's crontab ({source})"
    )
