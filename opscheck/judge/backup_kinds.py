"""Which kind of backup a set is, from when it was taken: the manual's scripts write no record of it.

A set named 03:00 is the daily (the hourly job fired at 03:00 too: the later kind wins), one named
Sunday 04:00 the weekly, any other the hourly. Where two sets answer one firing (an hourly and a daily,
seconds apart), the one holding more parts is the later kind's, the other falls back to the next.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import croniter

ORDER = ("weekly", "daily", "hourly")  # the later kind first: it wins a firing several kinds share


@dataclass(frozen=True)
class Taken:
    """A set as far as its kind is concerned: its name, when its name says it was taken, how many parts it holds."""

    name: str
    stamp: datetime
    parts: int


def fired(schedule: str, stamp: datetime, window: timedelta) -> datetime | None:
    """When `schedule` last fired at or before `stamp`, if within `window` of it."""
    last = croniter(schedule, stamp + timedelta(seconds=1)).get_prev(datetime)
    return last if stamp - last <= window else None


def kinds_by_schedule(sets: Sequence[Taken], schedules: Mapping[str, str], window: timedelta) -> dict[str, str]:
    """Set name → kind, for every set some schedule fired just before; sets no schedule explains are left out."""
    candidates = {
        s.name: [
            (kind, when) for kind in ORDER if kind in schedules and (when := fired(schedules[kind], s.stamp, window))
        ]
        for s in sets
    }
    kinds: dict[str, str] = {}
    claimed: dict[tuple[str, datetime], str] = {}
    for s in sorted(sets, key=lambda s: -s.parts):  # the fullest set of a firing takes its kind first
        for kind, when in candidates[s.name]:
            if (kind, when) not in claimed:
                claimed[(kind, when)] = s.name
                kinds[s.name] = kind
                break
        else:
            if candidates[s.name]:
                kinds[s.name] = candidates[s.name][0][0]  # a second set of the same firing: still of its kind
    return kinds
