"""The target's hosts as the checks reach them: one testinfra connection per host per process, ssh multiplexed.

testinfra's `ssh://` opens a new connection for every command unless a ControlPath is configured (it ignores
one given in the URL, honours one in an ssh config file). So each pytest process writes an ssh config of its
own, in a private folder, that multiplexes every host over one master connection and then reads the user's
and the system's own ssh configuration; the masters are closed when the run ends.

Files (logs, backup sets, plans, manifests) are read on the hosts that hold them, named in the target by host
name or role (`on = "backup"`); a `local://` host's files are this machine's, read directly. (Not a plugin
module: the fixtures and the evidence hook share it.)
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import testinfra

from opscheck.errors import ProbeError
from opscheck.probes.agent import Agent, AgentBackend
from opscheck.probes.files import LOCAL, Files, HostFiles
from opscheck.target.hosts import Host
from opscheck.target.spec import Target

SSH_SCHEMES = ("ssh", "safe-ssh")
CONNECTING_AT_ONCE = 8
SSH_CONFIG = """Host *
    ControlMaster auto
    ControlPath {folder}/%C
    ControlPersist 120
    BatchMode yes
    ServerAliveInterval 10
{includes}"""
DEFAULT_INCLUDES = ("~/.ssh/config", "/etc/ssh/ssh_config")


class Fleet:
    """Connections to the target's hosts, and where each of its files is read."""

    def __init__(self, spec: Target) -> None:
        self.spec = spec
        self._folder: Path | None = None
        self._masters: list[str] = []
        self._files: dict[str, HostFiles] = {}
        self._hosts: dict[str, testinfra.host.Host] = {}
        self._agents: list[Agent] = []

    @functools.cached_property
    def hosts(self) -> list[Host]:
        """The target's hosts, an ansible inventory group expanded into its hosts (through testinfra's get_hosts),
        each with the roles and settings of the entry that names the group."""
        out: list[Host] = []
        for host in self.spec.hosts:
            parts = urlsplit(host.url)
            if parts.scheme != "ansible":
                out.append(host)
                continue
            beside = Path(sys.executable).parent  # installed in this environment, not on PATH (a venv not activated)
            if shutil.which("ansible-inventory") is None and (beside / "ansible-inventory").exists():
                os.environ["PATH"] = f"{beside}{os.pathsep}{os.environ.get('PATH', '')}"
            if shutil.which("ansible-inventory") is None:
                raise ProbeError("host", host.url, "ansible:// needs ansible-inventory here: pip install ansible-core")
            try:
                names = [h.backend.host for h in testinfra.get_hosts([host.url])]
            except (RuntimeError, OSError, ValueError) as exc:
                raise ProbeError("ansible inventory", host.url, " ".join(str(exc).split())[-300:]) from None
            for name in names:
                url = parts._replace(netloc=name).geturl()
                out.append(host if name == parts.netloc else host.model_copy(update={"name": name, "url": url}))
        return out

    def connect(self, host: Host) -> testinfra.host.Host:
        parts = urlsplit(host.url)
        if parts.scheme == "ansible":  # its inventory says how to reach it: over ssh, as an ssh host
            found = testinfra.get_host(host.url)
            reached = found.backend.ansible_runner.get_host(found.backend.host)
            return self._with_agent(host.url, reached) if reached is not None and _is_ssh(reached) else found
        if parts.scheme not in SSH_SCHEMES:
            return testinfra.get_host(host.url)
        url, _ = _ssh_url(host.url)
        if url in self._hosts:
            return self._hosts[url]
        pending = self._connecting.get(url)  # what it gives is kept in self._hosts (_with_agent)
        return pending.result() if pending else self._over_ssh(host)

    @functools.cached_property
    def _connecting(self) -> dict[str, Future[testinfra.host.Host]]:
        """Every ssh host's connection, begun together when a check first asks for one: ssh's handshake costs ~0.3 s
        a host, paid one host after another before, and a run asks for each (a run of one host's checks opens the
        others' too). A host that cannot be reached says so once, to every check that asks for it."""
        hosts: dict[str, Host] = {}
        for host in self.hosts:
            if urlsplit(host.url).scheme in SSH_SCHEMES:
                hosts.setdefault(_ssh_url(host.url)[0], host)
        for host in hosts.values():
            self._ssh_config(_ssh_url(host.url)[1])  # written here, before the threads that read it
        pool = ThreadPoolExecutor(max_workers=CONNECTING_AT_ONCE, thread_name_prefix="opscheck-ssh")
        connecting = {url: pool.submit(self._over_ssh, host) for url, host in hosts.items()}
        pool.shutdown(wait=False)
        return connecting

    def _over_ssh(self, host: Host) -> testinfra.host.Host:
        """The host over ssh, multiplexed, with its reader where it has python3."""
        url, own = _ssh_url(host.url)
        if url not in self._masters:
            self._masters.append(url)
        if shutil.which("ssh") is None:
            raise ProbeError("host", f"{host.name} ({_shown(host.url)})", "ssh:// needs the ssh client on this "
                             "machine: apt-get install openssh-client")  # fmt: skip
        over = testinfra.get_host(url, ssh_config=str(self._ssh_config(own)))
        try:
            has_python = over.run("command -v python3").rc == 0
        except RuntimeError as exc:  # ssh's own failure (exit 255): the host cannot be reached
            said = " ".join(str(getattr(exc.args[0], "stderr", exc)).split())[-300:]
            raise ProbeError(
                "host", f"{host.name} ({_shown(host.url)})", f"cannot be reached over ssh: {said}"
            ) from None
        return self._with_agent(url, over, has_python)

    def _with_agent(self, key: str, over: testinfra.host.Host, has_python: bool | None = None) -> testinfra.host.Host:
        """Every command of the host through one session to a reader on its python3 (~0.1 ms against ~100 ms
        for a session each), where it has one; else a command a session, multiplexed."""
        if key in self._hosts:
            return self._hosts[key]
        if has_python is None:
            has_python = over.run("command -v python3").rc == 0
        if not has_python:
            self._hosts[key] = over
            return over
        agent = Agent.over_ssh_backend(over.backend)
        self._agents.append(agent)
        self._hosts[key] = testinfra.host.Host(AgentBackend(over.backend, agent))
        return self._hosts[key]

    def _ssh_config(self, own: str | None) -> Path:
        """Ours: multiplexed, then the host's own configuration (or the user's and the system's)."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="opscheck-ssh-"))  # 0700: the sockets are ours alone
            atexit.register(self.close)
        name = f"config-{abs(hash(own))}" if own else "config"
        config = self._folder / name
        if not config.exists():
            includes = (own,) if own else DEFAULT_INCLUDES
            config.write_text(
                SSH_CONFIG.format(folder=self._folder, includes="".join(f"Include {i}\n" for i in includes))
            )
        return config

    def hosts_on(self, on: str) -> list[Host]:
        """The hosts named `on`, else those with role `on`."""
        named = [h for h in self.hosts if h.name == on]
        return named or [h for h in self.hosts if on in h.roles]

    def files_on(self, on: str) -> list[tuple[str, Files]]:
        """(host name, its files) for every host that holds what is `on` that host or role; this machine where
        the target names none (a target without hosts runs where its files are)."""
        found = self.hosts_on(on)
        if not found:
            return [("this machine", LOCAL)]
        return [(h.name, self.files(h)) for h in found]

    def files(self, host: Host) -> Files:
        if urlsplit(host.url).scheme == "local":
            return LOCAL
        if host.name not in self._files:
            self._files[host.name] = HostFiles(self.connect(host), f"{host.name} ({_shown(host.url)})")
        return self._files[host.name]

    def close(self) -> None:
        """End the hosts' readers and the multiplexed masters, and remove their sockets."""
        wait(self.__dict__.pop("_connecting", {}).values())  # each bounded by ssh's ConnectTimeout
        for agent in self._agents:
            agent.close()
        self._agents.clear()
        self._files.clear()
        self._hosts.clear()
        if self._folder is None:
            return
        for url in self._masters:
            target = urlsplit(url)
            where = [*(["-p", str(target.port)] if target.port else []), *(["-l", target.username] if target.username
                     else []), target.hostname or ""]  # fmt: skip
            for config in self._folder.glob("config*"):
                subprocess.run(["ssh", "-F", str(config), "-O", "exit", *where],
                               capture_output=True, timeout=10, check=False)  # fmt: skip
        shutil.rmtree(self._folder, ignore_errors=True)
        self._folder = None


def _ssh_url(url: str) -> tuple[str, str | None]:
    """The host's URL as testinfra is given it, and the ssh_config= it named: read through ours (testinfra lets the
    URL's win over ours otherwise)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    own = query.pop("ssh_config", [None])[0]
    return parts._replace(query=urlencode(query, doseq=True)).geturl(), own


def _is_ssh(host: testinfra.host.Host) -> bool:
    return getattr(host.backend, "NAME", "") in SSH_SCHEMES


def _shown(url: str) -> str:
    """A host URL as it may be shown (any password left out)."""
    parts = urlsplit(url)
    if parts.password:
        return parts._replace(netloc=f"{parts.username}:***@{parts.hostname}").geturl()
    return url


FLEET = pytest.StashKey[Fleet]()


def fleet_of(config: pytest.Config, spec: Target) -> Fleet:
    """This process's connections to the target's hosts (one Fleet per pytest process)."""
    if FLEET not in config.stash:
        config.stash[FLEET] = Fleet(spec)
    return config.stash[FLEET]
