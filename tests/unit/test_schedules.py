"""B1: schedules compared by when they fire, not by how they are spelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opscheck.judge.schedules import Entry, cron_line, same_schedule

START = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("spelled", ["0 3 * * *", "00 03 * * *", "0 3 * * 0-6", "0 3 */1 * *", "0 3 * * 1,2,3,4,5,6,0"])
def test_every_spelling_of_the_daily_0300_is_the_same_schedule(spelled):
    assert same_schedule(Entry("crontab", spelled, "daily_backup.sh"), "0 3 * * *", START)


def test_another_time_or_day_is_not():
    assert not same_schedule(Entry("crontab", "0 4 * * *", "x"), "0 3 * * *", START)
    assert not same_schedule(Entry("crontab", "0 4 * * 1", "x"), "0 4 * * 0", START)
    assert same_schedule(Entry("crontab", "0 4 * * 7", "x"), "0 4 * * 0", START), "cron's Sunday is 0 and 7"
    assert same_schedule(Entry("crontab", "@hourly", "x"), "0 * * * *", START)


def test_a_timers_own_firings_are_compared():
    daily = tuple(datetime(2026, 12, 5, 3, tzinfo=UTC) + timedelta(days=d) for d in range(7))
    assert same_schedule(Entry("backup.timer", "*-*-* 03:00:00", "daily_backup.sh", daily), "0 3 * * *", START)


def test_crontab_and_cron_d_lines():
    assert cron_line("0 3 * * * /opt/miraikakaku/scripts/daily_backup.sh") == (
        "0 3 * * *", "/opt/miraikakaku/scripts/daily_backup.sh")  # fmt: skip
    assert cron_line("0 3 * * * postgres /opt/x/daily_backup.sh", with_user=True) == (
        "0 3 * * *",
        "/opt/x/daily_backup.sh",
    )
    assert cron_line("@daily root /opt/x/b.sh", with_user=True) == ("@daily", "/opt/x/b.sh")
    for not_a_job in ("# 0 3 * * * x", "MAILTO=ops@example.com", "", "@reboot /x", "0 3 * *"):
        assert cron_line(not_a_job) is None


def test_a_cron_line_fires_in_its_cron_tz():
    tokyo = Entry("cron.d", "0 3 * * *", "daily_backup.sh", zone="Asia/Tokyo")
    assert not same_schedule(tokyo, "0 3 * * *", START), "03:00 in Tokyo is 18:00 UTC"
    assert same_schedule(tokyo, "0 18 * * *", START)
