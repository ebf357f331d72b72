"""D4's calendar: the last complete trading day, and a complete symbol's profile."""

from __future__ import annotations

from datetime import date, timedelta

from opscheck.judge.trading_days import EPOCH, calendar_profile, closed, last_complete_day


def test_the_last_complete_day_skips_weekends_and_holidays():
    monday = date(2026, 11, 30)
    assert last_complete_day(monday, (), 1) == date(2026, 11, 27)  # Friday
    assert last_complete_day(monday, (date(2026, 11, 27),), 1) == date(2026, 11, 26)
    assert last_complete_day(date(2026, 11, 28), (), 0) == date(2026, 11, 27)  # a Saturday is not a trading day


def test_a_complete_range_has_the_calendars_profile():
    first, last = date(2026, 11, 2), date(2026, 11, 13)
    days = [(first + timedelta(d) - EPOCH).days for d in range(12) if not closed(first + timedelta(d), ())]
    assert calendar_profile(first, last, ()) == (len(days), sum(days), sum(d * d for d in days)) == (10, *_sums(days))


def _sums(days: list[int]) -> tuple[int, int]:
    return sum(days), sum(d * d for d in days)


def test_a_missing_day_and_a_duplicate_day_change_the_profile():
    first, last = date(2026, 11, 2), date(2026, 11, 6)
    count, total, squares = calendar_profile(first, last, ())
    wednesday = (date(2026, 11, 4) - EPOCH).days
    assert (count - 1, total - wednesday) != (count, total)
    thursday = (date(2026, 11, 5) - EPOCH).days
    # Wednesday lost and Thursday doubled keeps the count but not the sums.
    assert (count, total - wednesday + thursday, squares - wednesday**2 + thursday**2) != (count, total, squares)
