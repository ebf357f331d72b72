"""Where a sandbox lives and what it has running: one folder, one state.json, processes tracked by pid.

Everything the sandbox starts is recorded before it is waited on, so `down` (or the next
`up` after a crash) can end it; a pid is only signalled when its command line names this
sandbox, so a recycled pid of some other program is never touched.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Collection, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

DIR_ENV = "OPSCHECK_SANDBOX_DIR"
FLEET_DIR_ENV = "OPSCHECK_SANDBOX_FLEET_DIR"
FLEET_FOLDERS = ("logs", "plans", "config", "src", "backups")  # what the fleet's hosts keep (sandbox.fleet)


def default_dir(fleet: bool = False) -> Path:
    configured = os.environ.get(FLEET_DIR_ENV if fleet else DIR_ENV)
    if configured:
        return Path(configured).resolve()
    return Path(__file__).resolve().parent.parent / (".sandbox-fleet" if fleet else ".sandbox")


@dataclass
class State:
    """What `up` recorded: ports, pids, secrets' location, where PostgreSQL keeps its data."""

    ports: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    pg_dir: str = ""
    data_mount: str = ""  # the platform's own small data volume (a tmpfs), when we may mount one
    cgroup: str = ""  # the platform's own cgroup (half a CPU, 1 GiB), when we may make one
    started_at: str = ""
    shape: str = "default"  # how the platform is laid out (sandbox.shape): default, or manual
    hosts: dict[str, dict] = field(default_factory=dict)  # the fleet's hosts (sandbox.fleet): pid, address, port


class Sandbox:
    """The folder layout of one sandbox."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def target_file(self) -> Path:
        return self.root / "target.toml"

    @property
    def secrets_file(self) -> Path:
        return self.root / "secrets.json"

    @property
    def faults_file(self) -> Path:
        return self.root / "faults.json"

    @property
    def logs(self) -> Path:
        return self.stored("logs")

    @property
    def run_logs(self) -> Path:
        """The processes' own stdout/stderr (not the platform's logs, which checks read)."""
        return self.root / "run"

    @property
    def config_dir(self) -> Path:
        return self.stored("config")

    @property
    def is_fleet(self) -> bool:
        """Whether the platform is spread over hosts (sandbox.fleet): its hosts' folders are then stored apart."""
        return (self.root / "fleet.json").exists()

    def stored(self, name: str) -> Path:
        """Where the sandbox keeps folder `name`: in place, or (a fleet) under stored/, bound onto `root/name`
        inside the namespaces of the hosts that hold it, so that root/name is empty everywhere else."""
        return self.root / "stored" / name if self.is_fleet and name in FLEET_FOLDERS else self.root / name

    def public(self, path: Path) -> Path:
        """`path` as the platform's hosts (and the target) name it."""
        stored = self.root / "stored"
        return self.root / path.relative_to(stored) if path.is_relative_to(stored) else path

    @property
    def backups_local(self) -> Path:
        return self.stored("backups") / "local"

    @property
    def backups_offsite(self) -> Path:
        return self.stored("backups") / "offsite"

    @property
    def tls(self) -> Path:
        return self.root / "tls"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def metrics(self) -> Path:
        """The monitoring's resource history (CSV), what D11 reads through its query API."""
        return self.root / "metrics.csv"

    @property
    def suite_history(self) -> Path:
        """Run records of the suite's past month of scheduled runs, as M1-M3 read them back."""
        return self.root / "history"

    @property
    def app_sources(self) -> Path:
        """The platform's own repositories, as far as the dependency audit reads them (X5)."""
        return self.stored("src")

    @property
    def apt_root(self) -> Path:
        """The sandbox host's package state (MM1): apt's Dir, with its own dpkg status and archive."""
        return self.root / "apt"

    @property
    def trail(self) -> Path:
        """The platform's own audit trail: where its people's attestations are kept (M4)."""
        return self.root / "trail"

    @property
    def plans(self) -> Path:
        return self.stored("plans")

    def read_state(self) -> State | None:
        try:
            return State(**json.loads(self.state_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def write_state(self, state: State) -> None:
        atomic_write(self.state_file, json.dumps(asdict(state), indent=2))

    def secrets(self) -> dict[str, str]:
        return json.loads(self.secrets_file.read_text())

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """One `up`, `down` or fault at a time for this folder (two runs may start together)."""
        self.root.parent.mkdir(parents=True, exist_ok=True)
        with open(self.root.with_name(self.root.name + ".lock"), "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield


def atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def free_port(taken: Collection[int] = ()) -> int:
    """A free port below the kernel's ephemeral range, and not one of `taken` (chosen already for another service:
    nothing listens on it yet, and the API and the advisory mirror once drew the same one): a port from that range
    (`bind(0)`) can be taken by any outgoing connection in the seconds before the service binds it, which broke
    start-ups under load."""
    low, _ = _ephemeral_range()
    for _ in range(200):
        port = random.randrange(10_000, max(low, 10_001))
        if port in taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:  # every probe taken: fall back to the kernel's choice
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def is_ours(pid: int, marker: str) -> bool:
    """True when `pid` is alive and its command line, environment or working folder names `marker`."""
    if not _alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return False
    return marker.encode() in cmdline or marker.encode() in environ or cwd.startswith(marker)


def stop_process(pid: int, marker: str, grace_s: float = 5.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after `grace_s`."""
    if not is_ours(pid, marker):
        return
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 2.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.05)


def serving_pid(pid: int) -> int:
    """The service's own process: a fleet's runs under nsenter (sandbox.fleet.on_host), which forks it."""
    if Path(f"/proc/{pid}/comm").read_text().strip() != "nsenter":
        return pid
    return int(Path(f"/proc/{pid}/task/{pid}/children").read_text().split()[0])


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def spawn(command: list[str], log: Path, env: dict[str, str] | None = None) -> int:
    """Start a detached process in its own session (so its whole group can be stopped) and return its pid."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    return process.pid
