"""The platform's logs: where they are and which windows the checks read."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from opscheck.target.base import Section


class Logs(Section):
    app: Path | None = None  # the API's application log (api.log)
    frontend: Path | None = None
    access: Path | None = None  # nginx combined format with $request_time appended
    alerts: Path | None = None  # what the monitoring system raised
    daily_window_hours: Annotated[float, Field(gt=0)] = 24.0  # the morning's "since the last check"
    intraday_window_hours: Annotated[float, Field(gt=0)] = 2.0  # the every-2-hours block
    max_silence_minutes: Annotated[float, Field(gt=0)] = 15.0  # the access log must have a line this recent
    # W7: the logrotate configuration on the hosts with role "api" (run with `logrotate --debug`), and the
    # size no live log may pass (the manual's `maxsize 100M`).
    logrotate_config: Path | None = None
    max_size_mb: Annotated[float, Field(gt=0)] = 100.0

    def declared(self) -> dict[str, Path]:
        named = {"app": self.app, "frontend": self.frontend, "access": self.access, "alerts": self.alerts}
        return {name: path for name, path in named.items() if path is not None}
