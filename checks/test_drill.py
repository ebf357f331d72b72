"""W5 — 週次バックアップ検証, MM3 — 全バックアップの検証・DR テスト: the newest daily dump really restores.

The drill writes (a scratch database on the target's scratch server), so it runs only with the
`drill` mark selected and where the target allows drills; it always drops what it made.
Anything the restore loses or changes is a データ損失リスク: CRITICAL.
"""

from datetime import UTC, datetime

import pytest

from opscheck.judge import restore
from opscheck.probes import backup_figures, drill

pytestmark = [pytest.mark.weekly, pytest.mark.monthly, pytest.mark.drill]


@pytest.fixture(scope="module")
def restored(target, backups) -> drill.DrillOutcome:
    spec = target.spec.drill
    if spec is None:
        pytest.skip("the target names no scratch server for restore drills ([drill] absent)")
    if not target.spec.permissions.allow_drills:
        pytest.skip("the target does not allow restore drills ([permissions] allow_drills = false)")
    latest = backups.latest("daily")
    if latest is None:
        pytest.fail(f"no daily backup set in {backups.place} to restore", pytrace=False)
    return drill.run(spec, target.secret(spec.password_env), latest)


@pytest.mark.checklist("W5", "MM3")
@pytest.mark.level("critical")
def test_latest_dump_restores(restored, measured):
    measured("backup_set", restored.backup.name)
    if restored.restore_s is not None:
        measured("restore_s", round(restored.restore_s, 2))
    assert not restored.restore_error, (
        f"the daily backup {restored.backup.name} does not restore: {restored.restore_error}. "
        "Manual (CRITICAL, データ損失リスク): take a new backup now; until one restores, there is none"
    )


@pytest.mark.checklist("W5", "MM3")
@pytest.mark.level("critical")
def test_restored_data_matches_the_backup_record(restored):
    restored.restored()
    recorded = backup_figures.recorded(restored.backup)
    assert restored.figures is not None, (
        f"the restored database cannot be read: {restored.figures_error}. Manual (CRITICAL, データ損失リスク): "
        "the backup holds no usable data; take a new backup now"
    )
    differences = restore.differences(recorded, restored.figures)
    assert not differences, (
        f"what {restored.backup.name} restores is not what was dumped: {'; '.join(differences)}. "
        "Manual (CRITICAL): the dump lost data on the way; do not rely on it, take a new backup and compare"
    )


@pytest.mark.checklist("W5", "MM3")
@pytest.mark.level("critical")
def test_restored_database_passes_amcheck(restored):
    restored.restored()
    assert restored.amcheck_ok, (
        f"pg_amcheck finds corruption in what {restored.backup.name} restores: {restored.amcheck_report}. "
        "Manual: REINDEX the index it names on production, then take a new backup"
    )


@pytest.mark.checklist("W5", "MM3")
@pytest.mark.level("error")
def test_recovery_objectives_are_met(restored, target, measured):
    """RTO: how long the restore took. RPO: how old the newest restorable data is."""
    restored.restored()
    spec = target.spec.drill
    rpo_h = (datetime.now(UTC) - restored.backup.finished_at).total_seconds() / 3600
    measured("rto_s", round(restored.restore_s or 0, 2))
    measured("rpo_h", round(rpo_h, 2))
    assert (restored.restore_s or 0) <= spec.max_rto_minutes * 60 and rpo_h <= spec.max_rpo_hours, (
        f"restoring {restored.backup.name} took {restored.restore_s or 0:.0f} s (RTO limit "
        f"{spec.max_rto_minutes:g} min) and its data is {rpo_h:.1f} h old (RPO limit {spec.max_rpo_hours:g} h). "
        "Manual: a late backup (cron, D5) or a slow restore (its size, the server): fix it, then drill again"
    )
