"""Schedules by meaning, not by text (B1): `00 03 * * *`, `0 3 * * 0-6` and `@daily`-with-an-hour are one schedule
when they fire at the same moments. Two schedules are the same when they fire at the same times over a week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, croniter

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Entry:
    """One scheduled command as its source wrote it: a cron line, a cron.d line, a systemd timer."""

    source: str  # where it was read: "crontab -l", "/etc/cron.d/miraikakaku", "backup.timer"
    schedule: str  # as written: "0 3 * * *", "@hourly", or a timer's OnCalendar=
    command: str
    firings: tuple[datetime, ...] = ()  # a timer's next firings, as systemd computed them; empty for cron
    zone: str | None = None  # CRON_TZ (or TZ) in force for this cron line; None: the host's zone


def cron_line(line: str, with_user: bool = False) -> tuple[str, str] | None:
    """(schedule, command) of a crontab line (`with_user`: a cron.d line, its sixth field the user); None for a
    comment, a variable or anything that is not a schedule."""
    fields = line.split()
    if not fields or fields[0].startswith("#") or "=" in fields[0]:
        return None
    if fields[0].startswith("@"):
        rest = fields[2:] if with_user else fields[1:]
        return (fields[0], " ".join(rest)) if fields[0] != "@reboot" and rest else None
    width = 6 if with_user else 5
    if len(fields) <= width:
        return None
    schedule = " ".join(fields[:5])
    return (schedule, " ".join(fields[width:])) if croniter.is_valid(schedule) else None


def cron_firings(schedule: str, start: datetime, span: timedelta = WEEK) -> tuple[datetime, ...]:
    """Every time `schedule` fires in [start, start + span)."""
    try:
        it = croniter(schedule, start - timedelta(seconds=1))
    except (CroniterBadCronError, ValueError, KeyError):
        return ()
    out = []
    while (moment := it.get_next(datetime)) < start + span:
        out.append(moment)
    return tuple(out)


def firings(entry: Entry, start: datetime, span: timedelta = WEEK) -> tuple[datetime, ...]:
    """When `entry` fires in [start, start + span): a cron line in its CRON_TZ, else in `start`'s zone."""
    if entry.firings:
        return tuple(m for m in entry.firings if start <= m < start + span)
    if entry.zone:
        try:
            start = start.astimezone(ZoneInfo(entry.zone))
        except (ZoneInfoNotFoundError, ValueError):
            return ()
    return cron_firings(entry.schedule, start, span)


def same_schedule(entry: Entry, wanted: str, start: datetime) -> bool:
    """Whether `entry` fires exactly when the cron schedule `wanted` does, over the week from `start`."""
    return firings(entry, start) == cron_firings(wanted, start)
