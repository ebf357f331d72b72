"""The target's logs as the checks and the evidence read them: each in its own format (not a plugin module:
the fixtures and the evidence hook share it)."""

from __future__ import annotations

from datetime import tzinfo

import pytest

from opscheck.judge.logformats import AppFormat
from opscheck.probes.logs import LogFile
from opscheck.target.loader import LoadedTarget
from opscheck.target.logs import Logs as LogsSpec


class Logs:
    """The target's declared logs, each read in its format; asking for one the target does not declare skips
    the check, saying so."""

    def __init__(self, target: LoadedTarget) -> None:
        self.spec = target.spec.logs
        self.zone = target.spec.zone()
        self.access_form = self.spec.access_form()

    def file(self, name: str) -> LogFile:
        log = log_file(self.spec, name, self.zone)
        if log is None:
            pytest.skip(f"the target declares no {name} log ([logs] {name})")
        return log

    def form(self, name: str) -> AppFormat:
        """The format of application log `name` (app, frontend, alerts)."""
        return self.spec.app_form(name, self.zone)


def log_file(spec: LogsSpec, name: str, zone: tzinfo) -> LogFile | None:
    """Log `name` as the target declares it, its lines' times read in its own format; None if undeclared."""
    path = spec.declared().get(name)
    if path is None:
        return None
    time_of = spec.access_form().time_of if name == "access" else spec.app_form(name, zone).time_of
    return LogFile(name, path, time_of)
