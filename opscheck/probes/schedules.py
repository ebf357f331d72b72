"""Where a host schedules its jobs (B1): the user's crontab, cron.d-style files (with their user field), and
systemd timers (OnCalendar=, expanded by systemd-analyze on that host), read through the host's testinfra
connection."""

from __future__ import annotations

import shlex
from datetime import datetime
from pathlib import Path

import testinfra.host

from opscheck.errors import ProbeError
from opscheck.judge.schedules import Entry, cron_line

ITERATIONS = 200  # a week of hourly firings, and more


def entries(host: testinfra.host.Host, where: str, crontab: Path | None, cron_files: list[Path],
            timers: list[Path]) -> list[Entry]:  # fmt: skip
    """Every scheduled command found on `host` (`where` names it in messages)."""
    found: list[Entry] = []
    source = f"cat {shlex.quote(str(crontab))}" if crontab else "crontab -l"
    listed = host.run(source)
    if listed.rc != 0 and not (crontab is None and "no crontab" in listed.stderr):
        raise ProbeError(f"cron entries on {where}", source, listed.stderr.strip() or f"exit {listed.rc}")
    found += _cron(listed.stdout, source, with_user=False)
    for path in cron_files:
        for file in _files(host, path):
            found += _cron(host.file(file).content_string, file, with_user=True)
    for unit in timers:
        found += _timer(host, unit)
    return found


def _cron(text: str, source: str, with_user: bool) -> list[Entry]:
    """The schedule lines of a crontab, each with the CRON_TZ (cronie) or TZ set above it."""
    entries, zone = [], None
    for line in text.splitlines():
        name, _, value = line.strip().partition("=")
        if name.strip() in ("CRON_TZ", "TZ") and value:
            zone = value.strip().strip("'\"")
            continue
        parsed = cron_line(line, with_user)
        if parsed:
            entries.append(Entry(source, parsed[0], parsed[1], zone=zone))
    return entries


def _files(host: testinfra.host.Host, path: Path) -> list[str]:
    """`path` itself, or every file in it where it is a folder (cron.d); nothing where it does not exist."""
    node = host.file(str(path))
    if not node.exists:
        return []
    if node.is_directory:
        return [f"{path}/{name}" for name in sorted(node.listdir()) if not name.startswith(".")]
    return [str(path)]


def _timer(host: testinfra.host.Host, unit: Path) -> list[Entry]:
    """A systemd timer: its OnCalendar= lines, the command of the service it starts (ExecStart=), and its next
    firings as `systemd-analyze calendar` computes them on the host."""
    timer = host.file(str(unit))
    if not timer.exists:
        raise ProbeError("systemd timer", str(unit), "no such unit file")
    calendars = _values(timer.content_string, "OnCalendar")
    service_name = (_values(timer.content_string, "Unit") or [unit.with_suffix(".service").name])[0]
    service = host.file(str(unit.with_name(service_name)))
    command = " ".join(_values(service.content_string, "ExecStart")) if service.exists else ""
    out = []
    for calendar in calendars:
        expanded = host.run(f"systemd-analyze calendar --iterations={ITERATIONS} {shlex.quote(calendar)}")
        if expanded.rc != 0:
            raise ProbeError("systemd timer", str(unit), f"OnCalendar={calendar}: {expanded.stderr.strip()}")
        out.append(Entry(str(unit), calendar, command, _elapses(expanded.stdout)))
    return out


def _values(unit_text: str, key: str) -> list[str]:
    return [line.split("=", 1)[1].strip() for line in unit_text.splitlines() if line.strip().startswith(key + "=")]


def _elapses(output: str) -> tuple[datetime, ...]:
    """The firings `systemd-analyze calendar` lists (`Next elapse: …`, `Iter. #2: …`), each as the `(in UTC): …`
    line under it where the host's zone is not UTC, else as printed (in UTC)."""
    moments: list[datetime] = []
    pending: str | None = None
    for line in [*output.splitlines(), "end: "]:
        label, _, value = line.strip().partition(": ")
        if label == "(in UTC)":
            pending = value
            continue
        if pending is not None:
            parts = pending.split()
            if len(parts) >= 3:
                moments.append(datetime.fromisoformat(f"{parts[1]} {parts[2]}+00:00"))
            pending = None
        if label == "Next elapse" or label.startswith("Iter. #"):
            pending = value
    return tuple(moments)
