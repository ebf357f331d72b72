"""The platform's logs: where they are and which windows the checks read."""

from __future__ import annotations

import re
from datetime import tzinfo
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from opscheck.judge.logformats import (
    DEFAULT_ACCESS_FORMAT,
    DEFAULT_APP_FORMAT,
    DEFAULT_APP_TIME,
    AccessFormat,
    AppFormat,
)
from opscheck.target.base import Section


class Logs(Section):
    app: Path | None = None  # the API's application log (api.log)
    frontend: Path | None = None
    access: Path | None = None  # nginx's access log, in `access_format`
    alerts: Path | None = None  # what the monitoring system raised
    # Where the logs are: a host's name or a role (every host with it: each its own log, traffic summed); `hosts`
    # gives a log a place of its own (alerts = "monitoring"). A target without hosts reads them on this machine.
    on: str = "api"
    hosts: dict[Literal["app", "frontend", "access", "alerts"], str] = {}
    # nginx's own log_format string for the access log (default: `combined` with $request_time appended), and
    # the variable that holds the client (http_x_forwarded_for behind a proxy nginx does not resolve).
    access_format: str = DEFAULT_ACCESS_FORMAT
    access_client: str = "remote_addr"
    # The application logs' lines: a regular expression with named fields time, level and message, and the
    # time's strftime format ("iso": ISO 8601); `formats` gives one log (frontend, alerts) a pattern of its own.
    app_format: str = DEFAULT_APP_FORMAT
    app_time_format: str = DEFAULT_APP_TIME
    formats: dict[Literal["app", "frontend", "alerts"], str] = {}
    daily_window_hours: Annotated[float, Field(gt=0)] = 24.0  # the morning's "since the last check"
    intraday_window_hours: Annotated[float, Field(gt=0)] = 2.0  # the every-2-hours block
    max_silence_minutes: Annotated[float, Field(gt=0)] = 15.0  # the access log must have a line this recent
    # W7: the logrotate configuration on the hosts with role "api" (run with `logrotate --debug`), and the
    # size no live log may pass (the manual's `maxsize 100M`).
    # Every read's bounds: a longer line is cut (and counted); a window read past max_read_mb or max_read_s stops
    # as a failure that says so. Never a hang, whatever a file holds (a crashed writer's run of NUL bytes).
    max_line_kb: Annotated[int, Field(ge=1, le=64 * 1024)] = 64
    max_read_mb: Annotated[int, Field(ge=1)] = 4096
    max_read_s: Annotated[float, Field(gt=0, le=3600)] = 120.0
    logrotate_config: Path | None = None
    max_size_mb: Annotated[float, Field(gt=0)] = 100.0

    @model_validator(mode="after")
    def _formats_compile(self) -> Logs:
        try:
            AccessFormat.of(self.access_format, self.access_client)
        except (ValueError, re.error) as exc:
            raise ValueError(f"access_format: {exc}") from None
        for name, pattern in {"app_format": self.app_format, **self.formats}.items():
            try:
                AppFormat.of(pattern, self.app_time_format)
            except (ValueError, re.error) as exc:
                raise ValueError(f"{name if name == 'app_format' else 'formats.' + name}: {exc}") from None
        return self

    def declared(self) -> dict[str, Path]:
        named = {"app": self.app, "frontend": self.frontend, "access": self.access, "alerts": self.alerts}
        return {name: path for name, path in named.items() if path is not None}

    def access_form(self) -> AccessFormat:
        return AccessFormat.of(self.access_format, self.access_client)

    def app_form(self, name: str, zone: tzinfo) -> AppFormat:
        """The format of application log `name` (app, frontend, alerts), its times read in `zone`."""
        return AppFormat.of(self.formats.get(name, self.app_format), self.app_time_format, zone)
