"""The operator's routine: the maintenance window, plans, and what the suite may do beyond reading."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from opscheck.target.base import Section


class Maintenance(Section):
    """The weekly maintenance window (MW1-MW3): by default the manual's Sunday 02:00, two hours."""

    window: str = Field("Sun 02:00", pattern=r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([01][0-9]|2[0-3]):[0-5][0-9]$")
    duration_hours: Annotated[float, Field(gt=0, le=48)] = 2.0
    # MW1: a full (daily or weekly) backup must have finished at most this long before the window, or in it.
    backup_lead_hours: Annotated[float, Field(gt=0, le=48)] = 3.0


class Plans(Section):
    """Plans are files named maintenance-YYYY-MM-DD.md (or .none when the day needs none)."""

    dir: Path


class Permissions(Section):
    """What the suite may do beyond reading. Off unless the target says so."""

    allow_load: bool = False
    allow_drills: bool = False
    allow_scan_writes: bool = False  # the API scan may send more than GET/HEAD/OPTIONS ([security] scan_methods)
