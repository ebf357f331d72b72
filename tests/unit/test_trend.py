"""M3's straight line through a figure's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opscheck.judge.trend import fit

START = datetime(2026, 11, 1, tzinfo=UTC)


def test_a_steady_growth_is_found_exactly():
    points = [(START + timedelta(days=d), 50 + 0.5 * d) for d in range(30)]
    now, per_day = fit(points)
    assert now == pytest.approx(50 + 0.5 * 29) and per_day == pytest.approx(0.5)


def test_too_few_or_simultaneous_points_give_no_line():
    assert fit([(START, 1.0)]) is None
    assert fit([(START, 1.0), (START, 2.0)]) is None
