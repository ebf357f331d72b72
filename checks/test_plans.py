"""D12 — 翌日のメンテナンス計画確認: tomorrow has a plan, or is recorded as needing none."""

from datetime import datetime, timedelta

import pytest


@pytest.mark.daily
@pytest.mark.evening
@pytest.mark.checklist("D12")
@pytest.mark.level("warning")
def test_tomorrow_has_a_maintenance_plan(target):
    plans = target.spec.plans
    if plans is None:
        pytest.skip("the target declares no plans folder ([plans] absent)")
    tomorrow = (datetime.now(target.spec.zone()) + timedelta(days=1)).date()
    names = [f"maintenance-{tomorrow}.md", f"maintenance-{tomorrow}.none"]
    found = [plans.dir / name for name in names if (plans.dir / name).is_file()]
    assert found, (
        f"no maintenance plan for {tomorrow} in {plans.dir} (expected {names[0]}, or {names[1]} when the day "
        "needs none). Manual: confirm tomorrow's maintenance plan before leaving"
    )
    assert found[0].suffix == ".none" or found[0].stat().st_size > 0, f"{found[0]} is empty"


@pytest.mark.weekly
@pytest.mark.checklist("W8")
@pytest.mark.level("warning")
def test_next_weeks_deploy_plan_is_reviewed(target):
    """deploy-YYYY-Www.md for next week, with a `Reviewed-by:` line; or deploy-YYYY-Www.none when none is planned."""
    plans = target.spec.plans
    if plans is None:
        pytest.skip("the target declares no plans folder ([plans] absent)")
    year, week, _ = (datetime.now(target.spec.zone()) + timedelta(weeks=1)).isocalendar()
    stem = f"deploy-{year}-W{week:02d}"
    plan, none = plans.dir / f"{stem}.md", plans.dir / f"{stem}.none"
    if none.is_file():
        return
    assert plan.is_file(), (
        f"no deploy plan for next week ({stem}) in {plans.dir}: write {plan.name}, or {none.name} when nothing "
        "is to be deployed. Manual (W8, 金曜): next week's deploy plan is prepared and reviewed"
    )
    reviewers = [line.split(":", 1)[1].strip() for line in plan.read_text(encoding="utf-8").splitlines()
                 if line.lower().startswith("reviewed-by:")]  # fmt: skip
    assert any(reviewers), f"{plan.name} has not been reviewed: it needs a `Reviewed-by: NAME` line"
