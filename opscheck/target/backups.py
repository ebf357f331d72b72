"""Backups: where the sets are, how a set's parts and kind are told, and how their jobs are scheduled (D5, B1, B2).

The defaults are the manual's own `daily_backup.sh`: `<root>/<YYYYmmdd_HHMMSS>/` holding
`database_<ts>.sql`, `config_<ts>.tar.gz` and `logs_<ts>.tar.gz`, nothing else. A manifest and the
job's own record (`backup.json`) are read when a set has them, never required unless asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from croniter import croniter
from pydantic import Field, field_validator

from opscheck.target.base import Section

Kind = Literal["hourly", "daily", "weekly"]
Part = Literal["database", "config", "logs"]


class BackupParts(Section):
    """Which files of a set are which part, by glob on the file name. A folder that matches is a directory-format
    dump; `.sql` and `.sql.gz` are plain dumps, `.dump` (or anything else) pg_dump's custom format."""

    database: list[str] = ["database_*.sql", "database_*.sql.gz", "database_*.dump", "database_*.dir"]
    config: list[str] = ["config_*.tar.gz", "config_*.tgz"]
    logs: list[str] = ["logs_*.tar.gz", "logs_*.tgz"]


class KindPlace(Section):
    """Where a kind's sets are told apart by place or name rather than by when they were taken."""

    root: Path | None = None  # the kind's own folder of sets
    pattern: str | None = None  # a glob on a set's folder name, e.g. "hourly_*"


class Backups(Section):
    root: Path
    on: str = "backup"  # the host (by name or role) that holds the sets, and where their jobs are scheduled (B1)
    # The off-site copy: `s3://bucket/prefix` (the manual's aws s3 sync), or a folder (a mount) on the backup host.
    offsite: str | None = None
    offsite_endpoint_url: str | None = None  # an S3-compatible store that is not AWS
    offsite_region: str | None = None
    offsite_access_key_env: str | None = None  # variables holding its credentials; default: boto3's own chain
    offsite_secret_key_env: str | None = None  # (environment, ~/.aws, the instance's role)
    offsite_timeout_s: Annotated[float, Field(gt=0, le=300)] = 10.0
    offsite_verify_max_mb: Annotated[float, Field(gt=0)] = 2048.0  # objects without an MD5 ETag hashed up to this
    # A set's folder name: when the job started, as strftime of the target's timezone (the script's `date`).
    set_name: str = "%Y%m%d_%H%M%S"
    # A set is of the kind whose schedule fired at most this long before its name's time (the latest kind wins
    # where several fired: the 03:00 set is the daily, though the hourly job fired at 03:00 too).
    kind_window_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 30.0
    kinds: dict[Kind, KindPlace] = {}
    parts: BackupParts = BackupParts()
    required: dict[Kind, list[Part]] = {
        "hourly": ["database"],
        "daily": ["database", "config", "logs"],
        "weekly": ["database", "config", "logs"],
    }
    # A checksum manifest (`sha256sum`/`md5sum` output) is verified where a set has one; required only if asked.
    manifest: str = "SHA256SUMS"
    manifest_algorithm: Literal["sha256", "md5"] = "sha256"
    require_manifest: bool = False
    # The job's own record of a set (kind, finished_at, tool, figures), read where a set has one.
    record: str = "backup.json"
    # D5: the daily dump's rows of this table (the record's, or counted in the dump) must not shrink below
    # min_size_ratio of the set before's: lost data on the way.
    prices_table: str = Field("stock_prices", pattern=r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")
    min_size_ratio: Annotated[float, Field(gt=0, le=1)] = 0.8
    # R2: the folder the config archive's paths are relative to, on the hosts with role "api".
    config_root: Path | None = None
    # B1: where the backup host schedules its jobs: its crontab (a file, or `crontab -l` there), cron.d-style files
    # (with a user field; a folder means every file in it) and systemd timer units (with their .service beside
    # them); each kind's command (a substring of it) and its schedule, compared by when it fires over a week
    # (the manual's: hourly, daily 03:00, weekly Sunday 04:00).
    crontab: Path | None = None
    cron_files: list[Path] = [Path("/etc/crontab"), Path("/etc/cron.d")]
    timers: list[Path] = []
    jobs: dict[Kind, str] = {
        "hourly": "hourly_backup.sh",
        "daily": "daily_backup.sh",
        "weekly": "weekly_backup.sh",
    }
    schedules: dict[Kind, str] = {
        "hourly": "0 * * * *",
        "daily": "0 3 * * *",
        "weekly": "0 4 * * 0",
    }

    @field_validator("schedules")
    @classmethod
    def _cron(cls, value: dict[str, str]) -> dict[str, str]:
        for kind, expression in value.items():
            if not croniter.is_valid(expression):
                raise ValueError(f"{kind}: {expression!r} is not a cron schedule (e.g. '0 3 * * *')")
        return value

    @field_validator("set_name")
    @classmethod
    def _stamp(cls, value: str) -> str:
        if "%" not in value:
            raise ValueError(f"{value!r} holds no strftime field (the manual's: '%Y%m%d_%H%M%S')")
        return value
