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
