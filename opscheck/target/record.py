"""What the suite keeps and reads back about itself: attestations, history, SLA, capacity, notifications."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from opscheck.target.base import Percent, Section


class Attestations(Section):
    """Items that are a person's judgement (`opscheck attest ID`), and how old the latest may be, in days."""

    trail: Path | None = None  # the reports folder holding the audit chain; default: this run's reports folder
    max_age_days: dict[str, Annotated[float, Field(gt=0)]] = {"M4": 31.0}


class History(Section):
    """The suite's own past runs (their summary.json files), which the monthly checks read back (M1-M3)."""

    reports: Path | None = None  # default: this run's reports folder; point every scheduled run at one place
    period_days: Annotated[int, Field(ge=7, le=92)] = 30  # "the month"
    min_days: Annotated[int, Field(ge=1)] = 27  # daily runs needed in the period before M1/M2 judge it


class Sla(Section):
    """M2: what the platform promises its users over the month."""

    availability_percent: Percent = 99.9  # requests answered without a 5xx
    critical_miss_points: Annotated[float, Field(gt=0)] = 1.5  # this far below the SLA is CRITICAL, not ERROR
    health_checks_percent: Percent = 99.0  # the daily runs' component health checks (D1) that passed
    latency_p95_ms: Annotated[float, Field(gt=0)] = 500.0  # the month's typical day (median of daily p95)


class Capacity(Section):
    """M3: limits of what grows, and how far ahead running into one must be seen."""

    horizon_days: Annotated[int, Field(ge=1)] = 90
    min_history_days: Annotated[int, Field(ge=2)] = 14  # days of daily runs needed to fit a trend
    fit_days: Annotated[int, Field(ge=7)] = 90  # how much of the history the trend is fitted over
    # measured figure (as recorded by the daily run) → its limit
    limits: dict[str, float] = {"disk_used_percent": 90.0}


class Notify(Section):
    """Where a run's outcome goes besides its folder (the manual's SLACK_WEBHOOK_URL, node_exporter)."""

    webhook_url_env: str | None = None  # the variable holding a Slack-compatible webhook URL (it holds a token)
    level: Literal["warning", "error", "critical"] = "error"  # notify when the worst failure is at least this
    timeout_s: Annotated[float, Field(gt=0, le=30)] = 5.0
    textfile: Path | None = None  # e.g. /var/lib/node_exporter/textfile_collector/opscheck.prom
