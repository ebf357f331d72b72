"""A set's kind from when it was taken, where the manual's scripts record none."""

from __future__ import annotations

from datetime import datetime, timedelta

from opscheck.judge.backup_kinds import Taken, kinds_by_schedule

SCHEDULES = {"hourly": "0 * * * *", "daily": "0 3 * * *", "weekly": "0 4 * * 0"}
WINDOW = timedelta(minutes=30)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second)


def test_the_0300_set_is_the_daily_the_sunday_0400_the_weekly_the_rest_hourly():
    sets = [Taken("a", at(28, 3, 0, 2), 3), Taken("b", at(29, 4, 0, 5), 3), Taken("c", at(28, 14), 1)]
    assert kinds_by_schedule(sets, SCHEDULES, WINDOW) == {"a": "daily", "b": "weekly", "c": "hourly"}


def test_two_sets_of_one_firing_the_fuller_is_the_later_kind():
    sets = [Taken("hourly-dump", at(28, 3, 0, 1), 1), Taken("daily-set", at(28, 3, 0, 3), 3)]
    assert kinds_by_schedule(sets, SCHEDULES, WINDOW) == {"hourly-dump": "hourly", "daily-set": "daily"}


def test_a_set_no_schedule_explains_is_left_out():
    assert kinds_by_schedule([Taken("by-hand", at(28, 3, 45), 3)], {"daily": "0 3 * * *"}, WINDOW) == {}
