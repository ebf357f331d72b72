"""D5 / B2 — バックアップ状況の確認: the latest hourly, daily and weekly sets exist, are fresh and whole.

A backup that is missing or late is an ERROR; one that exists but cannot restore (empty,
cut short, not matching its checksums) is a データ損失リスク: CRITICAL.
"""

from datetime import UTC, datetime

import pytest

from opscheck.probes.backups import KINDS

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
    problems = latest.empty_parts() + latest.checksum_problems() + latest.dump_problems()
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
