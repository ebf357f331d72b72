"""M3 — キャパシティ計画: what grows (data, disk, traffic), fitted over the suite's own history, and how
many days are left before each limit the target names. Seeing a limit inside the horizon is the point."""

import pytest

from opscheck.judge.levels import Level, fail_at
from opscheck.judge.trend import fit
from opscheck.record import charts


@pytest.mark.monthly
@pytest.mark.checklist("M3")
@pytest.mark.level("warning")
def test_capacity_lasts_past_the_horizon(capacity_figure, target, capacity_history, artifact, measured):
    spec = target.spec.capacity
    history = capacity_history
    missing = history.shortfall(spec.min_history_days, f"how fast {capacity_figure} grows")
    if missing:
        fail_at(Level.WARNING, missing)
    points = history.series(capacity_figure)
    assert len(points) >= spec.min_history_days, (
        f"only {len(points)} daily runs recorded {capacity_figure} (at least {spec.min_history_days} needed). "
        "Manual: keep the check that measures it in the daily run, passing"
    )
    limit = spec.limits[capacity_figure]
    now, per_day = fit(points) or (points[-1][1], 0.0)
    days_left = (limit - now) / per_day if per_day > 0 else None
    measured("now", round(now, 2))
    measured("growth_per_day", round(per_day, 4))
    measured("days_left", round(days_left) if days_left is not None else "not growing")
    unit = capacity_figure.rsplit("_", 1)[-1]
    chart = charts.line_svg([(t.timestamp(), v) for t, v in points], f"{capacity_figure} (limit {limit:g})", unit)
    artifact(f"capacity-{capacity_figure}.svg", chart)
    assert now < limit, f"{capacity_figure} is already at {now:g}, over its limit {limit:g}. Manual (M3): act now"
    assert days_left is None or days_left > spec.horizon_days, (
        f"{capacity_figure} grows {per_day:+.3g} a day (fitted over {len(points)} days) and reaches its limit "
        f"{limit:g} in about {days_left:.0f} days, inside the {spec.horizon_days}-day horizon (now {now:.4g}). "
        "Manual (M3): plan the upgrade or the clean-up now"
    )
