"""Pending package updates on a host, as apt itself would install them: `apt-get -s upgrade`.

A simulation changes nothing and takes no lock; it reads the package lists as they are, so how old
those lists are is part of the answer (a host that never refreshes them shows nothing pending).
"""

from __future__ import annotations

import re
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

import testinfra.host

INST = re.compile(r"^Inst (?P<name>\S+) (?:\[(?P<current>[^\]]+)\] )?\((?P<new>\S+) (?P<origins>[^\[]+?)(?: \[.*\])?\)")


@dataclass(frozen=True)
class Upgrade:
    name: str
    current: str
    new: str
    origins: str  # e.g. "Debian-Security:12/stable-security, Debian:12.8/stable"

    @property
    def security(self) -> bool:
        return "security" in self.origins.lower()

    def __str__(self) -> str:
        return f"{self.name} {self.current} → {self.new}"


class AptError(RuntimeError):
    pass


def _options(apt_root: Path | None) -> str:
    if apt_root is None:
        return ""
    root = shlex.quote(str(apt_root))
    return f"-o Dir={root} -o Dir::State::status={root}/var/lib/dpkg/status "


def pending(host: testinfra.host.Host, apt_root: Path | None = None) -> list[Upgrade]:
    result = host.run(f"LC_ALL=C apt-get -s {_options(apt_root)}-o Debug::NoLocking=1 dist-upgrade")
    if result.rc != 0:
        said = (result.stderr or result.stdout).strip().splitlines()
        raise AptError(said[-1] if said else f"apt-get exited {result.rc}")
    upgrades = []
    for line in result.stdout.splitlines():
        if match := INST.match(line):
            upgrades.append(Upgrade(match["name"], match["current"] or "(new)", match["new"], match["origins"]))
    return upgrades


def lists_age_days(host: testinfra.host.Host, apt_root: Path | None = None) -> float | None:
    """Days since the package lists were last refreshed (`apt-get update`); None when there are none."""
    lists = f"{apt_root or ''}/var/lib/apt/lists"
    newest = host.run(f"find {shlex.quote(lists)} -maxdepth 1 \\( -name '*_Release' -o -name '*_InRelease' \\) "
                      "-printf '%T@\\n' | sort -n | tail -1")  # fmt: skip
    stamp = newest.stdout.strip()
    return (time.time() - float(stamp)) / 86400 if stamp else None
