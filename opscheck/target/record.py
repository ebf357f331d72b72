"""What the suite keeps and reads back about itself: attestations, history, SLA, capacity, notifications."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

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


class Channel(Section):
    """A level of the manual's escalation flow (エスカレーション・連絡先): its Slack channel, its own webhook if any."""

    channel: str
    webhook_url_env: str | None = None  # default: [notify] webhook_url_env, the channel named in each message


Minutes = Annotated[float, Field(gt=0, le=7 * 24 * 60)]
EscalationLevel = Annotated[int, Field(ge=1, le=3)]


class StartsAt(Section):
    """The escalation level an incident starts at, by its alert level (CRITICAL: 緊急対策本部, at once)."""

    warning: EscalationLevel = 1
    error: EscalationLevel = 1
    critical: EscalationLevel = 3


CHANNELS = {"level1": "#ops-level1", "level2": "#ops-level2", "level3": "#emergency"}  # the manual's Slack channels


class Notify(Section):
    """Where a run's outcome goes besides its folder: one message per incident to the manual's escalation level,
    escalated while it stays unresolved, "resolved" when it passes again; and node_exporter's textfile."""

    webhook_url_env: str | None = None  # the shared webhook (the manual's SLACK_WEBHOOK_URL), for levels without one
    level: Literal["warning", "error", "critical"] = "error"  # an incident is told when it fails at least this
    timeout_s: Annotated[float, Field(gt=0, le=30)] = 5.0
    textfile: Path | None = None  # e.g. /var/lib/node_exporter/textfile_collector/opscheck.prom
    level1: Channel = Channel(channel=CHANNELS["level1"])  # 一般的な問題: the on-duty engineer
    level2: Channel = Channel(channel=CHANNELS["level2"])  # 重要な問題: a senior engineer
    level3: Channel = Channel(channel=CHANNELS["level3"])  # 緊急事態: the tech lead / CTO
    # how long an unresolved incident stays at Level 1, 2 and 3 before the next step (the manual's 30 min, 1 h, 2 h;
    # past Level 3's the manual sets up the emergency response HQ, told on Level 3's channel)
    escalate_after_min: tuple[Minutes, Minutes, Minutes] = (30.0, 60.0, 120.0)
    starts_at: StartsAt = StartsAt()  # the escalation level an incident is first told at, by its alert level
    history_hours: Annotated[float, Field(gt=0, le=24 * 92)] = 48.0  # runs read back to follow an incident

    @model_validator(mode="before")
    @classmethod
    def _manuals_channels(cls, raw: object) -> object:
        """`[notify.level2]` with only a webhook keeps the manual's channel name."""
        if not isinstance(raw, dict):
            return raw
        return {**raw, **{key: {"channel": CHANNELS[key], **raw[key]} for key in CHANNELS
                          if isinstance(raw.get(key), dict)}}  # fmt: skip

    def channel(self, step: int) -> Channel:
        """The level an escalation step is told on (step 4, past Level 3, is still Level 3's)."""
        return (self.level1, self.level2, self.level3)[min(step, 3) - 1]

    def webhook_envs(self) -> list[tuple[str, str]]:
        """(key, variable) of every webhook named, the shared one first."""
        named = [("notify.webhook_url_env", self.webhook_url_env)] + [
            (f"notify.level{n}.webhook_url_env", self.channel(n).webhook_url_env) for n in (1, 2, 3)
        ]
        return [(key, env) for key, env in named if env]
