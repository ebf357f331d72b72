"""Backups: where the sets are, and how their jobs are scheduled (D5, B1, B2)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from opscheck.target.base import Section


class Backups(Section):
    root: Path
    offsite: Path | None = None
    # D5: a daily dump smaller than this share of the one before is a failure (lost data on the way).
    min_size_ratio: Annotated[float, Field(gt=0, le=1)] = 0.8
    # R2: the folder the config archive's paths are relative to, on the hosts with role "api".
    config_root: Path | None = None
    # B1: where the backup host's cron entries are (default: `crontab -l` there), each kind's command (a
    # substring of it) and its schedule (the manual's: hourly, daily 03:00, weekly Sunday 04:00).
    crontab: Path | None = None
    jobs: dict[Literal["hourly", "daily", "weekly"], str] = {
        "hourly": "hourly_backup.sh",
        "daily": "daily_backup.sh",
        "weekly": "weekly_backup.sh",
    }
    schedules: dict[Literal["hourly", "daily", "weekly"], str] = {
        "hourly": "0 * * * *",
        "daily": "0 3 * * *",
        "weekly": "0 4 * * 0",
    }
