"""D12 — 翌日のメンテナンス計画確認 (tomorrow has a plan, or is recorded as needing none), W8 — next week's deploy
plan is prepared and reviewed. Where the plans are and how they are named is the target's ([plans])."""

import re
from datetime import datetime, timedelta

import pytest

from opscheck.probes import plans as plan_files


@pytest.fixture
def plans(target):
    if target.spec.plans is None:
        pytest.skip("the target declares no plans folder ([plans] absent)")
    return target.spec.plans


@pytest.mark.daily
@pytest.mark.evening
@pytest.mark.checklist("D12")
@pytest.mark.level("warning")
def test_tomorrow_has_a_maintenance_plan(plans, target):
    tomorrow = (datetime.now(target.spec.zone()) + timedelta(days=1)).date()
    found = plan_files.find(plans.dir, plans.maintenance, tomorrow)
    none = plan_files.find(plans.dir, plans.no_maintenance, tomorrow)
    wanted = plan_files.names(plans.maintenance, tomorrow)
    assert found or none, (
        f"no maintenance plan for {tomorrow} in {plans.dir} (expected {' or '.join(wanted)}, or "
        f"{' or '.join(plan_files.names(plans.no_maintenance, tomorrow))} when the day needs none). "
        "Manual: confirm tomorrow's maintenance plan before leaving"
    )
    empty = [p.name for p in found if p.stat().st_size == 0]
    assert none or len(empty) < len(found), f"tomorrow's maintenance plan is empty: {', '.join(empty)}"


@pytest.mark.weekly
@pytest.mark.checklist("W8")
@pytest.mark.level("warning")
def test_next_weeks_deploy_plan_is_reviewed(plans, target):
    """Next week's deploy plan, holding the target's review line; or a record that nothing is to be deployed."""
    next_week = (datetime.now(target.spec.zone()) + timedelta(weeks=1)).date()
    if plan_files.find(plans.dir, plans.no_deploy, next_week):
        return
    found = plan_files.find(plans.dir, plans.deploy, next_week)
    year, week, _ = next_week.isocalendar()
    assert found, (
        f"no deploy plan for next week ({year}-W{week:02d}) in {plans.dir}: write "
        f"{' or '.join(plan_files.names(plans.deploy, next_week))}, or "
        f"{' or '.join(plan_files.names(plans.no_deploy, next_week))} when nothing is to be deployed. "
        "Manual (W8, 金曜): next week's deploy plan is prepared and reviewed"
    )
    reviewed = [p for p in found if re.search(plans.reviewed, p.read_text(encoding="utf-8", errors="replace"))]
    assert reviewed, (
        f"{', '.join(p.name for p in found)} not reviewed: a reviewed plan holds a line matching {plans.reviewed!r} "
        "(by default `Reviewed-by: NAME`)"
    )
