"""MW1-MW3 — 週次メンテナンス: after the window, every step the manual lists was done, and the system is whole.

Run after the window: `pytest -m post_maintenance` (with --window-start when the window was not
the target's scheduled one). The health checks (D1), the index check (R1) and the latency probe
(D6) carry the same mark: the manual's "full function test, performance check" (MW3).
"""

from datetime import UTC, datetime

import pytest

from opscheck.probes import processes

pytestmark = [pytest.mark.post_maintenance]


def _when(window) -> str:
    return f"the window that began {window.start.isoformat(timespec='minutes')}"


@pytest.mark.checklist("MW1")
@pytest.mark.level("error")
def test_a_full_backup_was_taken_before_the_window(backups, maintenance_window, target, measured):
    lead = target.spec.maintenance.backup_lead_hours
    earliest = maintenance_window.start.timestamp() - lead * 3600
    full = [s for s in backups.sets()[0] if s.kind in ("daily", "weekly")]
    taken = [s for s in full if earliest <= s.finished_at.timestamp() <= maintenance_window.end.timestamp()]
    if taken:
        measured("backup_set", taken[-1].name)
    newest = full[-1].name if full else "none"
    assert taken, (
        f"no full backup finished in the {lead:g} h before {_when(maintenance_window)} or during it (newest: "
        f"{newest}). Manual (MW1, 作業前): take a backup before any maintenance; take one now"
    )


@pytest.mark.checklist("MW2", "P2", "P4")
@pytest.mark.level("warning")
def test_tables_were_vacuumed_and_analyzed_in_the_window(db, maintenance_window):
    rows = db.rows(
        "SELECT relname, greatest(last_vacuum, last_autovacuum) AS vacuumed,"
        " greatest(last_analyze, last_autoanalyze) AS analyzed FROM pg_stat_user_tables WHERE schemaname = 'public'"
    )
    start = maintenance_window.start
    stale = [
        f"{r['relname']} (vacuumed {_ago(r['vacuumed'])}, analyzed {_ago(r['analyzed'])})"
        for r in rows
        if r["vacuumed"] is None or r["vacuumed"] < start or r["analyzed"] is None or r["analyzed"] < start
    ]
    assert not stale, (
        f"not vacuumed and analyzed since {_when(maintenance_window)}: {', '.join(stale)}. "
        "Manual (MW2): VACUUM ANALYZE; — statistics and dead tuples were left as they were"
    )


@pytest.mark.checklist("MW2")
@pytest.mark.level("warning")
def test_logs_were_rotated_in_the_window(target, logs, maintenance_window):
    """logrotate leaves NAME.1 (or NAME.1.gz); its inode changes when written, so its ctime is when it rotated."""
    start = maintenance_window.start.timestamp()
    declared = target.spec.logs.declared()
    if not declared:
        pytest.skip("the target declares no logs ([logs])")
    unrotated = []
    for name in declared:
        for log in logs.file(name).each():
            live, rotated = log.live(), log.rotation()
            empty = live is not None and live.size == 0  # logrotate's notifempty: nothing to rotate
            if not empty and not (rotated and rotated.ctime >= start):
                unrotated.append(f"{name} ({log.place})")
    assert not unrotated, (
        f"not rotated since {_when(maintenance_window)}: {', '.join(unrotated)}. "
        "Manual (MW2): logrotate -f /etc/logrotate.d/miraikakaku; check its configuration (W7)"
    )


@pytest.mark.checklist("MW2")
@pytest.mark.level("warning")
def test_services_were_restarted_in_the_window(host, host_spec, maintenance_window):
    if not host_spec.processes:
        pytest.skip(f"the target declares no processes on {host_spec.name} ([[hosts]] processes)")
    found = processes.matching(host, host_spec.processes)
    missing = [name for name, procs in found.items() if not procs]
    oldest = {name: min(p.started for p in procs) for name, procs in found.items() if procs}
    old = [f"{name} (running since {_ago(datetime.fromtimestamp(started, UTC))})" for name, started in oldest.items()
           if started < maintenance_window.start.timestamp()]  # fmt: skip
    assert not missing and not old, (
        f"on {host_spec.name}, not restarted in {_when(maintenance_window)}: "
        f"{', '.join(old + [p + ' (not running)' for p in missing])}. Manual (MW2): restart the services "
        "(docker-compose restart / kubectl rollout restart), then run the post_deploy checks"
    )


def _ago(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    return f"{(datetime.now(UTC) - moment).total_seconds() / 3600:.1f} h ago"
