"""D12 — 翌日のメンテナンス計画確認 (tomorrow has a plan, or is recorded as needing none), W8 — next week's deploy
plan is prepared and reviewed. Where the plans are and how they are named is the target's ([plans])."""

import os
import re
from datetime import datetime, timedelta

import pytest

from opscheck.probes import plans as plan


@pytest.fixture
def plans(target):
    if target.spec.plans is None:
        pytest.skip("the target declares no plans folder ([plans] absent)")
    return target.spec.plans


@pytest.fixture
def plan_files(plans, fleet):
    """The files of the host that keeps the plans ([plans] on)."""
    return fleet.files_on(plans.on)[0][1]


@pytest.mark.daily
@pytest.mark.evening
@pytest.mark.checklist("D12")
@pytest.mark.level("warning")
def test_tomorrow_has_a_maintenance_plan(plans, plan_files, target):
    tomorrow = (datetime.now(target.spec.zone()) + timedelta(days=1)).date()
    found = plan.find(plans.dir, plans.maintenance, tomorrow, plan_files)
    none = plan.find(plans.dir, plans.no_maintenance, tomorrow, plan_files)
    wanted = plan.names(plans.maintenance, tomorrow)
    assert found or none, (
        f"no maintenance plan for {tomorrow} in {plans.dir} on {plan_files.where} (expected {' or '.join(wanted)}, "
        f"or {' or '.join(plan.names(plans.no_maintenance, tomorrow))} when the day needs none). "
        "Manual: confirm tomorrow's maintenance plan before leaving"
    )
    empty = [p.name for p in found if p.size == 0]
    assert none or len(empty) < len(found), (
        f"tomorrow's maintenance plan is empty: {', '.join(empty)}. Manual: confirm tomorrow's maintenance plan "
        "before leaving"
    )


@pytest.mark.weekly
@pytest.mark.checklist("W8")
@pytest.mark.level("warning")
def test_next_weeks_deploy_plan_is_reviewed(plans, plan_files, target):
    """Next week's deploy plan, holding the target's review line; or a record that nothing is to be deployed."""
    next_week = (datetime.now(target.spec.zone()) + timedelta(weeks=1)).date()
    if plan.find(plans.dir, plans.no_deploy, next_week, plan_files):
        return
    found = plan.find(plans.dir, plans.deploy, next_week, plan_files)
    year, week, _ = next_week.isocalendar()
    assert found, (
        f"no deploy plan for next week ({year}-W{week:02d}) in {plans.dir}: write "
        f"{' or '.join(plan.names(plans.deploy, next_week))}, or "
        f"{' or '.join(plan.names(plans.no_deploy, next_week))} when nothing is to be deployed. "
        "Manual (W8, 金曜): next week's deploy plan is prepared and reviewed"
    )
    reviewed = [p for p in found if re.search(plans.reviewed, plan_files.read_text(p.name))]
    assert reviewed, (
        f"{', '.join(os.path.basename(p.name) for p in found)} not reviewed: a reviewed plan holds a line matching "
        f"{plans.reviewed!r} (by default `Reviewed-by: NAME`). Manual (W8): have it reviewed"
    )
