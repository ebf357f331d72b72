"""D5 / B2 — バックアップ状況の確認: the latest hourly, daily and weekly sets exist, are fresh and whole.

A backup that is missing or late is an ERROR; one that exists but cannot restore (empty,
cut short, not matching its checksums) is a データ損失リスク: CRITICAL.
"""

import re
from datetime import UTC, datetime

import pytest

from opscheck.judge.schedules import same_schedule
from opscheck.plugin.parameters import on_hosts_with_role
from opscheck.probes import schedules
from opscheck.probes.backups import KINDS, BackupStore, copy_differences
from opscheck.probes.offsite import ObjectStore, differences

pytestmark = [pytest.mark.daily, pytest.mark.morning]


def cron_line(spec, kind: str) -> str:
    """The manual's cron entry for `kind`, as the target schedules it: `0 3 * * * …daily_backup.sh`."""
    return f"{spec.schedules[kind]} …{spec.jobs[kind]}"


def _latest(backups, kind):
    latest = backups.latest(kind)
    assert latest is not None, (
        f"no {kind} backup set in {backups.place}. Manual: check the cron entry `{cron_line(backups.spec, kind)}` "
        "and the job's log, then run it by hand"
    )
    return latest


@pytest.mark.checklist("D5", "B1")
@pytest.mark.level("error")
@pytest.mark.parametrize("kind", KINDS)
def test_latest_backup_is_fresh(backups, thresholds, kind, measured):
    latest = _latest(backups, kind)
    age_h = (datetime.now(UTC) - latest.finished_at).total_seconds() / 3600
    measured("age_hours", round(age_h, 1))
    limit_h = getattr(thresholds.backup_max_age_hours, kind)
    assert age_h <= limit_h, (
        f"the newest {kind} backup ({latest.name}) finished {age_h:.1f} h ago; limit {limit_h:g} h. "
        f"Manual: the {kind} job has stopped running; check `{cron_line(backups.spec, kind)}` and run it by hand"
    )


@pytest.mark.checklist("D5", "B2")
@pytest.mark.level("error")
@pytest.mark.parametrize("kind", KINDS)
def test_latest_backup_holds_every_part(backups, kind):
    latest = _latest(backups, kind)
    missing = latest.missing_parts()
    patterns = "; ".join(f"{name}: {' or '.join(getattr(backups.spec.parts, name))}" for name in missing)
    assert not missing, (
        f"{kind} backup {latest.name} lacks its {', '.join(missing)} part(s) ({patterns}). "
        "Manual (daily_backup.sh): a set holds database_<ts>.sql, config_<ts>.tar.gz and logs_<ts>.tar.gz"
    )


@pytest.mark.checklist("D5", "B2")
@pytest.mark.level("critical")
@pytest.mark.parametrize("kind", KINDS)
def test_latest_backup_is_intact(backups, kind):
    latest = _latest(backups, kind)
    problems = latest.empty_parts() + latest.manifest_problems() + latest.dump_problems() + latest.archive_problems()
    assert not problems, (
        f"{kind} backup {latest.name} cannot be trusted to restore: {'; '.join(problems)}. "
        "Manual (CRITICAL, データ損失リスク): take a new backup now and find why this one is damaged"
    )


@pytest.mark.checklist("D5")
@pytest.mark.level("error")
def test_every_backup_set_is_readable(backups):
    _, unreadable = backups.sets()
    assert not unreadable, (
        f"{len(unreadable)} folder(s) in {backups.place} are not readable backup sets: {'; '.join(unreadable)}. "
        "Manual: a backup that cannot be read cannot be restored; take a new one now (scripts/backup.sh)"
    )


def object_store(target) -> ObjectStore:
    spec = target.spec.backups
    return ObjectStore(spec.offsite, spec.offsite_endpoint_url, spec.offsite_region,
                       target.secret(spec.offsite_access_key_env), target.secret(spec.offsite_secret_key_env),
                       spec.offsite_timeout_s)  # fmt: skip


@pytest.mark.checklist("D5", "B2")
@pytest.mark.level("error")
@pytest.mark.parametrize("kind", KINDS)
def test_offsite_copy_matches_the_local_set(backups, target, kind):
    """The manual's `aws s3 sync`: the newest set is off-site too, file for file (its manifest checked there)."""
    offsite_root = target.spec.backups.offsite
    if offsite_root is None:
        pytest.skip("the target declares no off-site copy ([backups] offsite)")
    latest = _latest(backups, kind)
    missing = (f"{kind} backup {latest.name} is not in the off-site copy {offsite_root}. Manual: the sync after the "
               "backup failed; run it by hand (aws s3 sync) and read its log")  # fmt: skip
    if offsite_root.startswith("s3://"):
        store = object_store(target)
        stored = store.objects(latest.name)
        assert stored, missing
        problems = differences(latest, stored, store, int(target.spec.backups.offsite_verify_max_mb * 2**20))
    else:
        copies = BackupStore(backups.spec, backups.zone, root=offsite_root, files=backups.files).sets()[0]
        offsite = next((s for s in copies if s.name == latest.name), None)
        assert offsite is not None, missing
        problems = copy_differences(latest, offsite)
    assert not problems, (
        f"the off-site copy of {kind} backup {latest.name} differs: {'; '.join(problems)}. Manual: sync it again "
        "(aws s3 sync) and read the sync's log"
    )


@pytest.mark.checklist("D5")
@pytest.mark.level("error")
def test_latest_dump_is_not_much_smaller_than_the_one_before(backups, measured):
    """A dump far smaller than yesterday's lost data on the way (GitLab, 2017: dumps of a few bytes, for months).

    Judged by the rows of the prices table it holds (as the job recorded them, or as counted in the dump),
    by its size where neither dump holds that table's data."""
    latest, before = backups.latest("daily"), backups.latest("daily", before=1)
    if latest is None or before is None or not before.dump_size():
        pytest.skip("fewer than two daily sets with a dump: nothing to compare with")
    table, floor = backups.spec.prices_table, backups.spec.min_size_ratio
    now, then = latest.row_counts().get(table), before.row_counts().get(table)
    if then:
        what, ratio = f"{now or 0} rows of {table}, against {then}", (now or 0) / then
    else:
        what, ratio = (
            f"{latest.dump_size()} bytes, against {before.dump_size()}",
            (latest.dump_size() or 0) / before.dump_size(),
        )
    measured("size_against_the_one_before_percent", round(100 * ratio, 1))
    assert ratio >= floor, (
        f"daily dump {latest.name} holds {what} in the one before ({before.name}): {100 * ratio:.0f} % (at least "
        f"{100 * floor:.0f} % expected). Manual: compare the two dumps' tables; find what the job skipped or what "
        "was deleted"
    )


@pytest.mark.checklist("D5")
@pytest.mark.level("error")
def test_dump_tool_is_not_older_than_the_server(backups, db):
    """pg_dump older than the server cannot be trusted with its catalog (and refuses newer majors)."""
    latest = _latest(backups, "daily")
    tool = latest.tool() or ""
    found = re.search(r"(\d+)(?:\.(\d+))?", tool)
    assert found, f"backup {latest.name} does not say which pg_dump took it (neither its dump's header nor a record)"
    server = int(db.value("SHOW server_version_num"))
    tool_version = int(found[1]) * 10000 + int(found[2] or 0)
    assert tool_version // 10000 >= server // 10000, (
        f"backup {latest.name} was taken with {tool!r}, older than the server (PostgreSQL {server // 10000}). "
        "Manual: install the server's pg_dump on the backup host and point the job at it"
    )


@on_hosts_with_role("backup")
@pytest.mark.weekly
@pytest.mark.checklist("B1")
@pytest.mark.level("error")
@pytest.mark.parametrize("kind", KINDS)
def test_backup_job_is_scheduled(host, host_spec, target, kind):
    """The kind's job fires when the manual says, however its schedule is spelled and wherever it is kept."""
    spec = target.spec.backups
    if spec is None:
        pytest.skip("the target declares no backups ([backups] absent)")
    found = schedules.entries(host, host_spec.name, spec.crontab, spec.cron_files, spec.timers)
    jobs = [e for e in found if spec.jobs[kind] in e.command]
    start = datetime.now(target.spec.zone())
    wanted = spec.schedules[kind]
    assert any(same_schedule(e, wanted, start) for e in jobs), (
        f"on {host_spec.name}, nothing runs the {kind} backup ({spec.jobs[kind]!r}) when {wanted!r} fires"
        + (f"; found it at {', '.join(f'{e.schedule!r} ({e.source})' for e in jobs)}" if jobs else "")
        + f". Manual (B1): `{cron_line(spec, kind)}` in the backup host's crontab"
    )
