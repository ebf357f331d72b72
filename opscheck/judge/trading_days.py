"""The trading-day calendar D4 judges prices against: weekdays, less the target's holidays.

A symbol whose rows have the same count and the same sums of day numbers (and of their squares) as the
calendar over its range holds each trading day exactly once; comparing three integers needs no sort.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from datetime import date, timedelta

EPOCH = date(2000, 1, 3)  # a Monday: day numbers count from it


@functools.cache
def calendar_profile(first: date, last: date, holidays: tuple[date, ...]) -> tuple[int, int, int]:
    """(count, sum, sum of squares) of the trading days' numbers: what a complete symbol's profile shows.

    Symbols share a few ranges, so this is computed a few times, not once per symbol.
    """
    days = [
        (day - EPOCH).days
        for offset in range((last - first).days + 1)
        if (day := first + timedelta(days=offset)).weekday() < 5 and day not in holidays
    ]
    return len(days), sum(days), sum(d * d for d in days)


def last_complete_day(today: date, holidays: Collection[date], lag_trading_days: int) -> date:
    """The trading day `lag_trading_days` back from today (weekdays, less the holidays)."""
    day, steps = today, lag_trading_days
    while steps > 0 or closed(day, holidays):
        day -= timedelta(days=1)
        if not closed(day, holidays):
            steps -= 1
    return day


def closed(day: date, holidays: Collection[date]) -> bool:
    """Whether the market is shut that day: a weekend or a holiday."""
    return day.weekday() >= 5 or day in holidays
