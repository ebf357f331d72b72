"""Faults of what is scheduled and reviewed: the backup's cron entry, the plans, the attestations."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from sandbox import lifecycle
from sandbox.faults.base import BACKUPS, ERROR, WARNING, Fault, _put_back, _set_aside
from sandbox.shape import of
from sandbox.state import Sandbox, State


def _cron_file(sandbox: Sandbox, state: State) -> tuple[Path, str]:
    """Where the hourly backup is scheduled in this shape, and what names its line."""
    if of(state.shape).backup_job == "script":
        return sandbox.root / "etc" / "cron.d" / "miraikakaku-backup", "hourly_backup.sh"
    return sandbox.config_dir / "crontab", "--kind hourly"


def _drop_hourly_cron(sandbox: Sandbox, state: State) -> None:
    """Someone commented out the hourly backup while debugging, and never put it back."""
    crontab, job = _cron_file(sandbox, state)
    crontab.write_text("".join(f"#OFF {line}" if job in line else line
                               for line in crontab.read_text().splitlines(keepends=True)))  # fmt: skip


def _restore_hourly_cron(sandbox: Sandbox, state: State) -> None:
    crontab, _ = _cron_file(sandbox, state)
    crontab.write_text("".join(line.removeprefix("#OFF ") for line in crontab.read_text().splitlines(keepends=True)))


REVIEW_LINES = {"default": "Reviewed-by:", "manual": "Approved-by:"}


def _deploy_plan_review(present: bool) -> Callable[[Sandbox, State], None]:
    """The review line of next week's deploy plans, taken away (a request for review instead) or put back."""

    def change(sandbox: Sandbox, state: State) -> None:
        review = REVIEW_LINES[state.shape]
        lines = ("Review-requested-from:", review) if present else (review, "Review-requested-from:")
        for plan in [*sandbox.plans.glob("deploy-*.md"), *sandbox.plans.glob("deploy/*/*.md")]:
            plan.write_text(plan.read_text().replace(*lines))

    return change


def _reviews_aged(**days_ago: float) -> Callable[[Sandbox, State], None]:
    """A trail whose latest attestations are as old as given (a month's review skipped, say)."""

    def inject(sandbox: Sandbox, state: State) -> None:
        (sandbox.root / "faults").mkdir(exist_ok=True)
        shutil.move(sandbox.trail, sandbox.root / "faults" / "trail")
        lifecycle.attest_reviews(sandbox, days_ago)

    return inject


def _restore_trail(sandbox: Sandbox, state: State) -> None:
    kept = sandbox.root / "faults" / "trail"
    if kept.exists():
        shutil.rmtree(sandbox.trail, ignore_errors=True)
        shutil.move(kept, sandbox.trail)


FAULTS: list[Fault] = [
    Fault("backup-unscheduled", "the hourly backup's cron entry commented out", ("B1",),
          {f"{BACKUPS}::test_backup_job_is_scheduled[sandbox-hourly]": ERROR},
          _drop_hourly_cron, _restore_hourly_cron, host="backup"),
    Fault("plan-missing", "no maintenance plan for tomorrow", ("D12",),
          {"checks/test_plans.py::test_tomorrow_has_a_maintenance_plan": WARNING},
          _set_aside("plans", lambda sb: list(sb.plans.iterdir())), _put_back("plans", lambda sb: sb.plans),
          also={"weekly": {"checks/test_plans.py::test_next_weeks_deploy_plan_is_reviewed": WARNING}}),
    Fault("dr-review-overdue", "the DR plan was last reviewed 40 days ago", ("M4",),
          {}, _reviews_aged(M4=40, X7=3), _restore_trail,
          also={"monthly": {"checks/test_attestations.py::test_item_was_attested_recently[M4]": WARNING}}),
    Fault("renewal-unattested", "no one has confirmed certificate renewal for 45 days (no certbot here)",
          ("X7",), {}, _reviews_aged(M4=3, X7=45), _restore_trail,
          also={"security": {"checks/test_tls.py::test_certificate_renewal_works[sandbox]": ERROR}}),
    Fault("deploy-plan-unreviewed", "next week's deploy plan has no Reviewed-by line", ("W8",),
          {}, _deploy_plan_review(False), _deploy_plan_review(True),
          also={"weekly": {"checks/test_plans.py::test_next_weeks_deploy_plan_is_reviewed": WARNING}}),
]  # fmt: skip
