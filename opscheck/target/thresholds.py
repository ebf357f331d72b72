"""The manual's figures (監視・アラート対応) as defaults for every limit the checks judge."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from opscheck.target.base import Percent, Section


class BackupAges(Section):
    """How old the newest set of each kind may be: its period plus the time a run may take."""

    hourly: Annotated[float, Field(gt=0)] = 2.0
    daily: Annotated[float, Field(gt=0)] = 26.0
    weekly: Annotated[float, Field(gt=0)] = 7 * 24 + 2.0


class Thresholds(Section):
    """The manual's figures are the defaults (監視・アラート対応)."""

    cpu_percent: Percent = 80.0
    memory_percent: Percent = 85.0
    response_ms: Annotated[float, Field(gt=0)] = 500.0
    error_rate_percent: Percent = 5.0
    accuracy_normal_percent: Percent = 80.0
    accuracy_alarm_percent: Percent = 60.0
    db_connections_percent: Percent = 80.0  # T5: usable connections in use above this: WARNING
    db_connections_error_percent: Percent = 95.0  # at or above this: ERROR (the next sessions are refused)
    redis_memory_percent: Percent = 90.0
    disk_percent: Percent = 90.0  # a watched file system fuller than this: WARNING
    disk_critical_percent: Percent = 95.0  # fuller than this: ERROR (writes are about to fail)
    io_busy_percent: Percent = 80.0  # T3: a data device with I/O in flight more of the time is saturated
    network_mbps: Annotated[float, Field(gt=0)] = 800.0  # D11: 80 % of a 1 Gbit/s link
    sustained_minutes: Annotated[float, Field(ge=0)] = 10.0  # D11: above a limit longer than this over the day
    log_error_lines: Annotated[int, Field(ge=0)] = 20  # ERROR lines per log in the daily window: WARNING above
    log_error_lines_error_factor: Annotated[float, Field(gt=1)] = 10.0  # at or above this many times it: ERROR
    log_critical_lines: Annotated[int, Field(ge=0)] = 0  # CRITICAL lines: ERROR above
    activity_drop_percent: Percent = 50.0  # traffic below (100 - this) % of a day / a week before: WARNING
    activity_rise_percent: Annotated[float, Field(gt=0)] = 200.0  # traffic above (100 + this) %: WARNING
    backup_max_age_hours: BackupAges = BackupAges()

    @model_validator(mode="after")
    def _alarm_below_normal(self) -> Thresholds:
        if self.accuracy_alarm_percent >= self.accuracy_normal_percent:
            raise ValueError("accuracy_alarm_percent must be below accuracy_normal_percent")
        if self.db_connections_error_percent <= self.db_connections_percent:
            raise ValueError("db_connections_error_percent must be above db_connections_percent")
        return self
