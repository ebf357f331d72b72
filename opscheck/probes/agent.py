"""A small reader run on a remote host over one long-lived session, as Ansible ships its modules: standard library
only, sent as source to the host's python3, answering requests on its stdin.

Each command over ssh opens a session of its own, and a session costs about 100 ms here even multiplexed (the
channel's setup); a window seek is a dozen reads. Over one session kept open a request costs a fraction of a
millisecond, and a megabyte moves in tens of milliseconds. The agent lists folders, stats and reads byte
ranges of files, runs opscheck.probes.dumps' functions where the files lie, and runs commands for the checks
that ask the host (`ps`, `ss`, `crontab -l`, …) through testinfra: `AgentBackend` is a testinfra backend
whose every command rides the one session.

Protocol: one JSON request a line ({"op": …, "args": […]}); each answer is a JSON header line ({"ok": true,
"size": N} or {"ok": false, "error": "…"}) followed by N bytes: the raw bytes of a read, JSON otherwise.
"""

from __future__ import annotations

import base64
import inspect
import json
import shlex
import subprocess
import threading
from typing import Any

import testinfra.backend.base

from opscheck.probes import dumps

SERVE = r"""
import json, os, stat as _stat, sys

def _entries(folder):
    try:
        with os.scandir(folder) as listed:
            out = []
            for e in listed:
                s = e.stat(follow_symlinks=False)
                m = s.st_mode
                kind = ("d" if _stat.S_ISDIR(m) else "f" if _stat.S_ISREG(m) else "l" if _stat.S_ISLNK(m)
                        else "p" if _stat.S_ISFIFO(m) else "c")
                out.append([e.name, kind, s.st_size, s.st_mtime, s.st_ctime])
            return out
    except (FileNotFoundError, NotADirectoryError):
        return None

def _read(path, offset, count):
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read(count)

def _run(command, timeout):
    import base64, subprocess
    try:
        done = subprocess.run(command, shell=True, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        rc, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:
        rc, out, err = 124, exc.stdout or b"", (exc.stderr or b"") + b"timed out after %d s" % timeout
    return [rc, base64.b64encode(out).decode(), base64.b64encode(err).decode()]

def _answer(value, raw=False):
    body = value if raw else json.dumps(value).encode()
    out = sys.stdout.buffer
    out.write(json.dumps({"ok": True, "size": len(body)}).encode() + b"\n")
    out.write(body)
    out.flush()

for line in sys.stdin.buffer:
    try:
        request = json.loads(line)
        op, args = request["op"], request["args"]
        if op == "entries":
            _answer(_entries(*args))
        elif op == "read":
            _answer(_read(*args), raw=True)
        elif op == "run":
            _answer(_run(*args))
        elif op == "call":
            _answer(globals()[args[0]](*args[1]))
        else:
            raise ValueError("unknown op " + op)
    except Exception as exc:
        sys.stdout.buffer.write(json.dumps({"ok": False, "error": type(exc).__name__ + ": " + str(exc)}).encode()
                                + b"\n")
        sys.stdout.buffer.flush()
"""


def program() -> str:
    """The agent's source: opscheck.probes.dumps (its functions are what `call` runs), then the request loop."""
    source = inspect.getsource(dumps).replace("from __future__ import annotations\n", "")
    return source + SERVE


class AgentError(RuntimeError):
    """The agent answered with an error, or stopped answering."""


class Agent:
    """The host end of one long-lived session: requests in, answers out, one at a time."""

    def __init__(self, command: list[str], timeout_s: float = 60.0) -> None:
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE)  # fmt: skip
        self._lock = threading.Lock()
        self.timeout_s = timeout_s  # no answer within this: the session is ended, the request fails

    @classmethod
    def over_ssh_backend(cls, backend: Any, timeout_s: float = 60.0) -> Agent:
        """Started through a testinfra ssh backend's own command line (its config, user, port, key)."""
        command, arguments = backend._build_ssh_command(f"python3 -u -c {shlex.quote(program())}")
        return cls(["/bin/sh", "-c", backend.quote(" ".join(command), *arguments)], timeout_s)

    def request(self, op: str, *args: Any) -> bytes:
        with self._lock:
            stdin, stdout = self._process.stdin, self._process.stdout
            assert stdin is not None and stdout is not None
            watchdog = threading.Timer(self.timeout_s, self._process.kill)
            watchdog.start()
            try:
                stdin.write(json.dumps({"op": op, "args": list(args)}).encode() + b"\n")
                stdin.flush()
                header = stdout.readline()
                if not header:
                    raise AgentError(
                        self._said() or f"the host's reader stopped (no answer within {self.timeout_s:g} s?)"
                    )
                answer = json.loads(header)
                if not answer["ok"]:
                    raise AgentError(answer["error"])
                return stdout.read(answer["size"])
            except (BrokenPipeError, OSError) as exc:
                raise AgentError(self._said() or str(exc)) from None
            finally:
                watchdog.cancel()

    def json(self, op: str, *args: Any) -> Any:
        return json.loads(self.request(op, *args))

    def _said(self) -> str:
        if self._process.poll() is None:
            return ""
        assert self._process.stderr is not None
        return " ".join(self._process.stderr.read().decode(errors="replace").split())[-300:]

    def close(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()


class AgentBackend(testinfra.backend.base.BaseBackend):
    """A testinfra backend running each command through a host's agent: testinfra's modules (file, socket,
    package, …) work as over ssh, without a session each."""

    NAME = "ssh"

    def __init__(self, over: Any, agent: Agent, timeout_s: float = 60.0) -> None:
        super().__init__(over.hostname)
        self.over, self.agent, self.timeout_s = over, agent, timeout_s

    def get_pytest_id(self) -> str:
        return self.over.get_pytest_id()

    def run(self, command: str, *args: str, **kwargs: Any) -> Any:
        command = self.get_command(command, *args)
        rc, out, err = json.loads(self.agent.request("run", command, self.timeout_s))
        return self.result(rc, self.encode(command), base64.b64decode(out), base64.b64decode(err))
