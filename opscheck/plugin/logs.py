"""The target's logs as the checks and the evidence read them: each in its own format, on the host that holds it
(not a plugin module: the fixtures and the evidence hook share it)."""

from __future__ import annotations

from datetime import tzinfo

import pytest

from opscheck.judge.logformats import AppFormat
from opscheck.plugin.hosts import Fleet
from opscheck.probes.logs import Bounds, LogFile, LogGroup
from opscheck.target.loader import LoadedTarget
from opscheck.target.logs import Logs as LogsSpec


class Logs:
    """The target's declared logs, each read in its format where it lies; asking for one the target does not
    declare skips the check, saying so. `name@host` asks for one host's copy of a log several hosts keep."""

    def __init__(self, target: LoadedTarget, fleet: Fleet) -> None:
        self.spec = target.spec.logs
        self.zone = target.spec.zone()
        self.fleet = fleet
        self.access_form = self.spec.access_form()

    def file(self, name: str) -> LogFile | LogGroup:
        log = log_file(self.spec, name, self.zone, self.fleet)
        if log is None:
            pytest.skip(f"the target declares no {name.split('@')[0]} log ([logs] {name.split('@')[0]})")
        return log

    def form(self, name: str) -> AppFormat:
        """The format of application log `name` (app, frontend, alerts)."""
        return self.spec.app_form(name.split("@")[0], self.zone)


def holders(spec: LogsSpec, name: str, fleet: Fleet) -> list[str]:
    """The hosts that keep log `name` (none: it is read on this machine)."""
    return [h.name for h in fleet.hosts_on(spec.hosts.get(name, spec.on))]  # type: ignore[call-overload]


def log_file(spec: LogsSpec, name: str, zone: tzinfo, fleet: Fleet) -> LogFile | LogGroup | None:
    """Log `name` (or `name@host`) as the target declares it, read where it lies in its own format; the logs of
    every host that keeps it, as one, where several do. None where the target declares no such log."""
    base, _, only = name.partition("@")
    path = spec.declared().get(base)
    if path is None:
        return None
    time_of = spec.access_form().time_of if base == "access" else spec.app_form(base, zone).time_of
    places = fleet.files_on(spec.hosts.get(base, spec.on))  # type: ignore[call-overload]
    bounds = Bounds(spec.max_line_kb << 10, spec.max_read_mb << 20, spec.max_read_s)
    logs = [LogFile(base, path, time_of, files, bounds) for host, files in places if not only or host == only]
    if not logs:
        return None
    return logs[0] if len(logs) == 1 else LogGroup(logs)
