"""The operator's routine: the maintenance window, plans, and what the suite may do beyond reading."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator

from opscheck.target.base import Section


class Maintenance(Section):
    """The weekly maintenance window (MW1-MW3): by default the manual's Sunday 02:00, two hours."""

    window: str = Field("Sun 02:00", pattern=r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([01][0-9]|2[0-3]):[0-5][0-9]$")
    duration_hours: Annotated[float, Field(gt=0, le=48)] = 2.0
    # MW1: a full (daily or weekly) backup must have finished at most this long before the window, or in it.
    backup_lead_hours: Annotated[float, Field(gt=0, le=48)] = 3.0
    # Where the window's first step records when it began (`date -Is > FILE`, or JSON with "window_start"): a
    # window held off the schedule (an emergency, a rehearsal) is then the one post_maintenance judges.
    record: str | None = None
    on: str = "api"  # the host (by name or role) that keeps the record


class Plans(Section):
    """Where the plans are (D12, W8): globs under `dir`, with fields for the day or week they are for.

    Fields: {date} (2026-12-05), {yyyymmdd}, {year}, {month}, {day} (two digits), {iso_year} and {iso_week}
    (two digits) of the plan's day or week. Subfolders and several files a day are globs like any other:
    "{year}/{month}/maintenance-{date}*.md".
    """

    dir: Path
    on: str = "api"  # the host (by name or role) that keeps them
    maintenance: list[str] = ["maintenance-{date}.md"]
    no_maintenance: list[str] = ["maintenance-{date}.none"]  # the day needs none, on record
    deploy: list[str] = ["deploy-{iso_year}-W{iso_week}.md"]
    no_deploy: list[str] = ["deploy-{iso_year}-W{iso_week}.none"]
    reviewed: str = r"(?im)^reviewed-by:[ \t]*\S"  # what a reviewed deploy plan holds (a regular expression)

    @field_validator("maintenance", "no_maintenance", "deploy", "no_deploy")
    @classmethod
    def _fields(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                pattern.format(**PLAN_FIELDS)
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(f"{pattern!r}: unknown field {exc} (fields: {', '.join(PLAN_FIELDS)})") from None
        return value

    @field_validator("reviewed")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value


PLAN_FIELDS = dict.fromkeys(("date", "yyyymmdd", "year", "month", "day", "iso_year", "iso_week"), "")


class Permissions(Section):
    """What the suite may do beyond reading. Off unless the target says so."""

    allow_load: bool = False
    allow_drills: bool = False
    allow_scan_writes: bool = False  # the API scan may send more than GET/HEAD/OPTIONS ([security] scan_methods)
