"""The fleet: the sandbox's platform spread over hosts of its own, each an sshd on its own loopback address in a
mount and pid namespace of its own (`unshare`), so what a host holds exists only there.

`app` (127.0.0.2) runs the API, front end, streaming engine and monitoring, and keeps their logs, the plans,
the configuration and the sources; `db` (127.0.0.3) is where PostgreSQL and Redis answer; `backup`
(127.0.0.4) keeps the backup sets and the crontab. A host's folders are stored under `<sandbox>/stored/` and
bound, inside its namespace only, onto the paths the target names (`<sandbox>/logs`, …), which are empty
everywhere else: a check that read them on the machine running pytest would find nothing. The services of
`app` are started inside its namespaces (nsenter), so `ps` on `app` shows them and nowhere else does.
PostgreSQL and Redis run in the machine's own pid namespace: `db` declares their ports, not their processes.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sandbox.errors import SandboxError
from sandbox.state import Sandbox, State, free_port, spawn, stop_process

SSHD = Path("/usr/sbin/sshd")


@dataclass(frozen=True)
class FleetHost:
    name: str
    address: str
    roles: tuple[str, ...]
    folders: tuple[str, ...]  # what it keeps: the sandbox's folders bound into its namespace


HOSTS = (
    FleetHost("app", "127.0.0.2", ("api", "frontend"), ("logs", "plans", "config", "src")),
    FleetHost("db", "127.0.0.3", ("postgres", "redis"), ()),
    FleetHost("backup", "127.0.0.4", ("backup",), ("backups", "config")),
)
SERVICES_ON = {"api": "app", "frontend": "app", "streaming": "app", "monitoring": "app"}


def keys_folder(sandbox: Sandbox) -> Path:
    return sandbox.root / "hosts"


def ssh_config(sandbox: Sandbox) -> Path:
    """The ssh configuration the sandbox-fleet target names: the sandbox's key and its hosts' own host keys."""
    return keys_folder(sandbox) / "ssh_config"


def prepare(sandbox: Sandbox) -> None:
    """Keys (a client key, a host key per host) and each host's sshd configuration."""
    if not SSHD.exists():
        raise SandboxError("the fleet needs sshd: apt-get install openssh-server (scripts/setup installs it)")
    folder = keys_folder(sandbox)
    folder.mkdir(parents=True, exist_ok=True)
    _keygen(folder / "id_ed25519")
    known = []
    for host in HOSTS:
        _keygen(folder / f"{host.name}_host_key")
        known.append((host, (folder / f"{host.name}_host_key.pub").read_text().split()[:2]))
    (folder / "authorized_keys").write_text((folder / "id_ed25519.pub").read_text())
    (folder / "known_hosts.template").write_text("\n".join(f"{h.address} {' '.join(k)}" for h, k in known) + "\n")
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation folder


def _keygen(path: Path) -> None:
    if not path.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, timeout=30)


def start(sandbox: Sandbox, state: State) -> None:
    """Every host: its namespaces, its folders bound in, its sshd listening on its own address."""
    folder = keys_folder(sandbox)
    known = []
    for host in HOSTS:
        port = free_port(taken=state.ports.values())  # its services listen on its address too
        config = folder / f"{host.name}_sshd_config"
        config.write_text(
            f"Port {port}\nListenAddress {host.address}\nHostKey {folder / (host.name + '_host_key')}\n"
            f"PidFile {folder / (host.name + '_sshd.pid')}\nAuthorizedKeysFile {folder / 'authorized_keys'}\n"
            "StrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPrintMotd no\nLogLevel VERBOSE\nMaxStartups 50\nMaxSessions 50\n"
        )
        binds = " && ".join(f"mount --bind {sandbox.stored(name)} {sandbox.root / name}" for name in host.folders)
        script = f"{binds + ' && ' if binds else ''}exec {SSHD} -D -e -f {config}"
        command = ["unshare", "--mount", "--pid", "--fork", "--mount-proc", "--propagation", "private", "sh", "-c",
                   script]  # fmt: skip
        pid = spawn(command, sandbox.run_logs / f"host-{host.name}.out")
        state.hosts[host.name] = {"pid": pid, "address": host.address, "port": port}
        host_key = (folder / f"{host.name}_host_key.pub").read_text().split()[:2]
        known.append(f"[{host.address}]:{port} {' '.join(host_key)}")
    (folder / "known_hosts").write_text("\n".join(known) + "\n")
    ssh_config(sandbox).write_text(
        f"Host 127.0.0.*\n    User root\n    IdentityFile {folder / 'id_ed25519'}\n    IdentitiesOnly yes\n"
        f"    UserKnownHostsFile {folder / 'known_hosts'}\n    StrictHostKeyChecking yes\n"
    )
    sandbox.write_state(state)
    _wait_for_sshd(sandbox, state)


def _wait_for_sshd(sandbox: Sandbox, state: State, timeout_s: float = 15.0) -> None:
    import socket

    for name, host in state.hosts.items():
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with socket.create_connection((host["address"], host["port"]), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    said = (sandbox.run_logs / f"host-{name}.out").read_text()[-300:]
                    raise SandboxError(f"the fleet host {name} did not start its sshd: {said}") from None
                time.sleep(0.05)


def init_pid(state: State, host: str) -> int:
    """The outer pid of the host's own init (its sshd): what nsenter enters."""
    holder = state.hosts[host]["pid"]
    children = Path(f"/proc/{holder}/task/{holder}/children").read_text().split()
    if not children:
        raise SandboxError(f"the fleet host {host} is not running (its namespace holder {holder} has no init)")
    return int(children[0])


def on_host(state: State, service: str, command: list[str]) -> list[str]:
    """`command`, run inside the namespaces of the host the service lives on (as is, outside the fleet)."""
    host = SERVICES_ON.get(service)
    if not state.hosts or host is None:
        return command
    return ["nsenter", "-t", str(init_pid(state, host)), "--mount", "--pid", "--", *command]


def stop(sandbox: Sandbox, state: State) -> None:
    """End every host: its init goes, and with it everything in its namespaces."""
    for name in list(state.hosts):
        stop_process(state.hosts[name]["pid"], str(sandbox.root), grace_s=2)  # its group: the holder and its init
    state.hosts.clear()


def remove(sandbox: Sandbox) -> None:
    shutil.rmtree(keys_folder(sandbox), ignore_errors=True)
