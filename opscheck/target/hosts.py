"""The hosts the platform runs on, how to reach them (testinfra backends) and what must run there."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator

from opscheck.target.base import Section

# testinfra's backends the checks are proven on (local, ssh) or documented for; what each needs on this machine.
BACKENDS = {
    "local": None, "ssh": "ssh", "safe-ssh": "ssh", "paramiko": "paramiko (pip)", "ansible": "ansible-inventory",
    "docker": "docker", "podman": "podman", "kubectl": "kubectl",
}  # fmt: skip


class Host(Section):
    name: str
    url: str = "local://"
    roles: list[str] = []
    # What must be listening (tcp://ADDRESS:PORT) and running (a command-line substring) there (T1).
    listens: list[str] = []
    processes: list[str] = []
    # T1: the service that owns each `listens` address (address -> unit), named in the remedy; an address left out
    # is owned by the component, PostgreSQL or Redis whose URL names its port (see Target.port_owner).
    port_owners: dict[str, str] = {}
    # Where the platform keeps data, logs and backups on this host: T3 watches their file systems.
    disk_paths: list[Path] = []
    # D6: CPU and memory are judged inside this cgroup (a container's view: its quota, its limit), given
    # relative to /sys/fs/cgroup (v1 or v2); without one, the whole machine. `watch_resources = false` skips.
    cgroup: str | None = None
    watch_resources: bool = True
    # D11: the value of `{instance}` in the [metrics] queries for this host; the host's name when unset.
    metrics_instance: str | None = None
    # MM1: where apt keeps its state on this host (apt's Dir); unset: the host's own (/). Debian/Ubuntu hosts.
    apt_root: Path | None = None
    apt_lists_max_age_days: Annotated[float, Field(gt=0)] = 7.0  # older package lists cannot tell what is pending

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        scheme, found, rest = value.partition("://")
        if not found or scheme not in BACKENDS:
            known = ", ".join(f"{s}://" for s in BACKENDS)
            raise ValueError(f"{value.split('?')[0]!r}: not a testinfra backend opscheck knows ({known})")
        if scheme != "local" and not rest.split("?")[0]:
            raise ValueError(f"{value!r}: names no host (e.g. {scheme}://user@app1)")
        if "@" in rest.split("?")[0] and ":" in rest.split("@")[0]:
            raise ValueError("must not hold a password; use keys (ssh) or the backend's own credentials")
        return value

    def instance(self) -> str:
        return self.metrics_instance or self.name
