"""Where a file is read: on this machine, or on the host that holds it, through that host's testinfra connection.

Logs, backup sets, plans and manifests live on the platform's hosts (design rule 9). Every probe that reads
files reads them through a `Files`: `LocalFiles` costs nothing over plain file access; `HostFiles` lists a
folder in one command, reads byte ranges (so a log's window seek and a gzip rotation's stream move only the
bytes they need), and runs opscheck.probes.dumps' functions on the host itself (shipped as source to its
python3, as Ansible ships its modules), so a dump is inspected where it lies and never copied whole.
A file that cannot be found is a failure naming the host and the path.
"""

from __future__ import annotations

import fnmatch
import functools
import inspect
import io
import json
import os
import shlex
import stat as stat_module
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from opscheck.errors import ProbeError
from opscheck.probes import dumps
from opscheck.probes.agent import Agent, AgentBackend, AgentError

RANGE = 1 << 14  # what a seek reads ahead on a remote file: a window seek moves ~20 of these, whatever the size
KINDS = {"f": "file", "d": "folder", "l": "link", "p": "fifo", "c": "device", "b": "device", "s": "socket"}


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # f (regular file), d (folder), l, p, c, b, s as find's %y prints them
    size: int
    mtime: float
    ctime: float = 0.0  # when its inode last changed (a rename by logrotate changes it)


class Files:
    """Reads files in one place; `where` names it in every message."""

    where: str = ""

    def entries(self, folder: str) -> list[Entry] | None:
        """What `folder` holds (not followed into), or None where there is no such folder."""
        raise NotImplementedError

    def stat(self, path: str) -> Entry | None:
        parent, name = os.path.split(str(path).rstrip("/"))
        return next((e for e in self.entries(parent or "/") or [] if e.name == name), None)

    def open(self, path: str) -> BinaryIO:
        raise NotImplementedError

    def facts(self, function: str, *args: Any) -> Any:
        """opscheck.probes.dumps.`function`(*args), run where the files are (its JSON-able result)."""
        raise NotImplementedError

    def read_text(self, path: str) -> str:
        with self.open(path) as handle:
            return handle.read().decode("utf-8", errors="replace")

    def glob(self, folder: str, pattern: str) -> list[str]:
        """Paths under `folder` matching `pattern`, segment by segment (`*` stays within one folder), sorted."""
        parts = [p for p in pattern.split("/") if p]
        found = [str(folder).rstrip("/")]
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            found = [f"{base}/{e.name}" for base in found for e in (self.entries(base) or [])
                     if fnmatch.fnmatchcase(e.name, part) and (last or e.kind == "d")]  # fmt: skip
        return sorted(found)

    def missing(self, what: str, path: str, cause: str = "no such file") -> ProbeError:
        return ProbeError(what, f"{path} on {self.where}", cause)


class LocalFiles(Files):
    """This machine's files (the host pytest runs on: local://)."""

    where = "this machine (where pytest runs)"

    def entries(self, folder: str) -> list[Entry] | None:
        try:
            with os.scandir(folder) as listed:
                return [_entry(e.name, e.stat(follow_symlinks=False)) for e in listed]
        except (FileNotFoundError, NotADirectoryError):
            return None

    def stat(self, path: str) -> Entry | None:
        try:
            return _entry(os.path.basename(str(path)), os.stat(path, follow_symlinks=False))
        except OSError:
            return None

    def open(self, path: str) -> BinaryIO:
        found = os.stat(path)  # a link is followed; a link loop is an OSError (ELOOP) the caller names
        if not stat_module.S_ISREG(found.st_mode):
            raise self.missing("file", path, f"is a {kind_of(_entry(path, found))}, not a regular file: not read")
        return open(path, "rb")

    def facts(self, function: str, *args: Any) -> Any:
        return getattr(dumps, function)(*args)


def _entry(name: str, found: os.stat_result) -> Entry:
    mode = found.st_mode
    kind = ("d" if stat_module.S_ISDIR(mode) else "f" if stat_module.S_ISREG(mode) else "l" if stat_module.S_ISLNK(mode)
            else "p" if stat_module.S_ISFIFO(mode) else "c")  # fmt: skip
    return Entry(name, kind, found.st_size, found.st_mtime, found.st_ctime)


class HostFiles(Files):
    """A host's files, read through its testinfra connection: over one long-lived session to a reader on the
    host's python3 (opscheck.probes.agent) where it can, else a command each (`find` to list, `dd` for byte
    ranges, `sha256sum`, `gzip -t`, `tail`)."""

    def __init__(self, host: Any, where: str) -> None:
        self.host = host
        self.where = where

    @functools.cached_property
    def agent(self) -> Agent | None:
        """The reader on the host, where the connection is ssh and the host has python3."""
        backend = self.host.backend
        if isinstance(backend, AgentBackend):
            return backend.agent
        if getattr(backend, "NAME", "") != "ssh" or not self._has_python():
            return None
        return Agent.over_ssh_backend(backend)

    def _agent(self, op: str, *args: Any) -> bytes:
        assert self.agent is not None
        try:
            return self.agent.request(op, *args)
        except AgentError as exc:
            raise ProbeError("host", self.where, f"its reader failed: {exc}") from None

    @functools.cache  # noqa: B019 - one per host and run: a folder is listed once
    def entries(self, folder: str) -> list[Entry] | None:
        if self.agent is not None:
            found = json.loads(self._agent("entries", str(folder)))
            return None if found is None else [Entry(*e) for e in found]
        listed = self._run(
            f"find {shlex.quote(str(folder))} -mindepth 1 -maxdepth 1 -printf '%f\\t%y\\t%s\\t%T@\\t%C@\\n'"
        )
        if listed.rc != 0:
            if "No such file" in listed.stderr or "Not a directory" in listed.stderr:
                return None
            raise ProbeError("files", f"{folder} on {self.where}", listed.stderr.strip() or f"find exited {listed.rc}")
        out = []
        for line in listed.stdout.splitlines():
            name, kind, size, mtime, ctime = line.rsplit("\t", 4)
            out.append(Entry(name, kind, int(size), float(mtime), float(ctime)))
        return out

    def open(self, path: str) -> BinaryIO:
        found = self.stat(path)
        if found is None:
            raise self.missing("file", path)
        if found.kind != "f":
            raise self.missing("file", path, f"is a {kind_of(found)}, not a regular file: not read")
        return io.BufferedReader(RangedFile(self, str(path), found.size), RANGE)  # type: ignore[return-value]

    def read_range(self, path: str, offset: int, count: int) -> bytes:
        if self.agent is not None:
            return self._agent("read", path, offset, count)
        command = (f"dd if={shlex.quote(path)} bs=65536 iflag=skip_bytes,count_bytes skip={offset} count={count} "
                   "status=none")  # fmt: skip
        result = self._run(command)
        if result.rc != 0:
            raise ProbeError("file", f"{path} on {self.where}", result.stderr.strip() or f"dd exited {result.rc}")
        return result.stdout_bytes

    def facts(self, function: str, *args: Any) -> Any:
        if self.agent is not None:
            return json.loads(self._agent("call", function, list(args)))
        if not self._has_python():
            return self._facts_without_python(function, *args)
        program = f"{_DUMPS_SOURCE}\nimport json, sys\nprint(json.dumps({function}(*json.loads(sys.argv[1]))))"
        result = self._run(f"python3 -c {shlex.quote(program)} {shlex.quote(json.dumps(args))}")
        if result.rc != 0:
            raise ProbeError(f"{function} on the host", self.where, result.stderr.strip()[-300:] or f"exit {result.rc}")
        return json.loads(result.stdout)

    @functools.cache  # noqa: B019
    def _has_python(self) -> bool:
        return self._run("command -v python3").rc == 0

    def _facts_without_python(self, function: str, *args: Any) -> Any:
        """The little the host's own tools tell where it has no python3: digests, and whether files read whole."""
        path = shlex.quote(str(args[0]))
        if function == "digest":
            algorithm = args[1] if len(args) > 1 else "sha256"
            result = self._run(f"{algorithm}sum {path}")
            return result.stdout.split()[0] if result.rc == 0 else None
        if function == "archive_members":
            result = self._run(f"tar -tzf {path} >/dev/null")
            return {"members": {}, "problem": None if result.rc == 0 else f"is not a whole archive ({result.stderr})"}
        tail = self._run(f"case {path} in *.gz) gzip -dc {path} | tail -c 4096;; *) tail -c 4096 {path};; esac")
        complete = tail.rc == 0 and dumps.PLAIN_DUMP_TRAILER in tail.stdout_bytes
        problem = None if complete else "does not end with pg_dump's completion line (cut short?)"
        size = (self.stat(args[0]) or Entry("", "f", 0, 0)).size
        return {"path": args[0], "format": "plain", "size": size, "complete": complete, "tool": None, "rows": {},
                "newest": None, "problem": problem}  # fmt: skip

    def _run(self, command: str) -> Any:
        try:
            return self.host.run(command)
        except RuntimeError as exc:  # ssh's own failure (exit 255): the host cannot be reached
            raise ProbeError("host", self.where, " ".join(str(exc).split())[-300:]) from None


_DUMPS_SOURCE = inspect.getsource(dumps)


class RangedFile(io.RawIOBase):
    """A remote file, seekable, read in byte ranges as it is read."""

    def __init__(self, files: HostFiles, path: str, size: int) -> None:
        self.files, self.path, self.size, self.position = files, path, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self.size - self.position)
        if wanted <= 0:
            return 0
        data = self.files.read_range(self.path, self.position, wanted)
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


LOCAL = LocalFiles()


def kind_of(entry: Entry | None) -> str:
    """What an entry is, in words: file, folder, fifo, …"""
    return "nothing" if entry is None else KINDS.get(entry.kind, entry.kind)


def posix(path: object) -> str:
    return str(PurePosixPath(str(path)))
