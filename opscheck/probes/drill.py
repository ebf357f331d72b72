"""The restore drill (W5, MM3): the newest dump restored into a scratch database, compared, checked, dropped.

A backup that has never been restored is a hope. The drill restores with exit-on-error (a dump that
stops half way is a failed restore, not a smaller database), computes on the result the figures the
backup job recorded at dump time (opscheck.backup_figures), runs pg_amcheck over heap and indexes,
and always drops what it made.
"""

from __future__ import annotations

import functools
import gzip
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from opscheck.errors import OpscheckError, ProbeError
from opscheck.identity import DRILL_SESSION
from opscheck.probes import backup_figures
from opscheck.probes.backups import BackupSet
from opscheck.probes.files import LocalFiles
from opscheck.probes.postgres import describe_error
from opscheck.target.postgres import Drill

TOOLS = ("psql", "pg_restore", "pg_amcheck")


def tool_path(spec: Drill, name: str) -> str:
    """A PostgreSQL client tool: from [drill] bin_dir, else `pg_config --bindir`, else PATH."""
    folder = spec.bin_dir or _pg_config_bindir()
    if folder is not None and (folder / name).is_file():
        return str(folder / name)
    found = shutil.which(name) if not spec.bin_dir else None
    if found is None:
        where = f"in {spec.bin_dir}" if spec.bin_dir else "(pg_config --bindir, PATH)"
        raise OpscheckError(f"{name} not found {where}: install postgresql-client, or set [drill] bin_dir")
    return found


@functools.cache
def _pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip()
    return Path(out) if out else None


@dataclass
class DrillOutcome:
    """What the drill found; each check judges one part of it."""

    backup: BackupSet
    database: str
    restore_s: float | None = None
    figures_s: float | None = None
    amcheck_s: float | None = None
    restore_error: str = ""
    figures: dict[str, Any] | None = None
    figures_error: str = ""
    amcheck_ok: bool | None = None
    amcheck_report: str = ""

    def restored(self) -> None:
        """Raise the restore's failure, so every check that needs a restored database names one cause."""
        if self.restore_error:
            raise ProbeError("restore drill", self.backup.name, self.restore_error)


class ScratchServer:
    def __init__(self, spec: Drill, password: str | None) -> None:
        self.spec = spec
        self._password = password

    @property
    def address(self) -> str:
        return f"{self.spec.host}:{self.spec.port}"

    def connect(self, dbname: str) -> psycopg.Connection[dict[str, Any]]:
        try:
            return psycopg.connect(
                host=self.spec.host, port=self.spec.port, dbname=dbname, user=self.spec.user,
                password=self._password, sslmode=self.spec.sslmode, connect_timeout=10, autocommit=True,
                application_name=DRILL_SESSION, row_factory=dict_row,
                options=f"-c statement_timeout={int(self.spec.timeout_minutes * 60_000)}",
            )  # fmt: skip
        except psycopg.Error as exc:
            raise ProbeError("drill scratch server", self.address, describe_error(exc, self._password)) from None

    def run_tool(
        self, command: list[str], dbname: str, stdin: Callable[[], BinaryIO] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """A client tool against `dbname`; the password travels in the environment, never on a command line.
        `stdin`: opens a dump to stream into the tool's input, block by block (never whole in memory)."""
        env = {**os.environ, "PGHOST": self.spec.host, "PGPORT": str(self.spec.port), "PGUSER": self.spec.user,
               "PGDATABASE": dbname, "PGSSLMODE": self.spec.sslmode, "PGCONNECT_TIMEOUT": "10"}  # fmt: skip
        if self._password:
            env["PGPASSWORD"] = self._password
        timeout = self.spec.timeout_minutes * 60
        try:
            if stdin is None:
                return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
            return _piped(command, env, stdin, timeout)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(command, 124, "", f"gave up after {self.spec.timeout_minutes:g} min")

    def scrub(self, text: str) -> str:
        text = " ".join(text.split())[-1500:]
        return text.replace(self._password, "***") if self._password else text


def run(spec: Drill, password: str | None, backup: BackupSet) -> DrillOutcome:
    """Restore `backup`'s dump into a new scratch database, measure and check it, then drop it."""
    server = ScratchServer(spec, password)
    name = f"opscheck_drill_{time.strftime('%Y%m%d%H%M%S')}_{secrets.token_hex(3)}"
    outcome = DrillOutcome(backup, name)
    dump = backup.part("database")
    if dump is None:
        outcome.restore_error = f"set {backup.name} holds no database dump"
        return outcome
    tools = {tool: tool_path(spec, tool) for tool in TOOLS}
    with server.connect(spec.maintenance_db) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template1").format(sql.Identifier(name)))
    try:
        _restore(server, tools, dump, outcome)
        if not outcome.restore_error:
            # Both only read the restored database: side by side, the drill costs little over the restore.
            with ThreadPoolExecutor(max_workers=2) as pool:
                checked = pool.submit(_amcheck, server, tools, outcome)
                _measure(server, outcome)
                checked.result()
    finally:
        with server.connect(spec.maintenance_db) as admin:
            drop_scratch(admin, name)
    return outcome


def _piped(
    command: list[str], env: dict[str, str], opener: Callable[[], BinaryIO], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run `command` with what `opener` opens streamed into its input, block by block, within `timeout`."""
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, opener() as source:
        tool = subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=out, stderr=err)
        assert tool.stdin is not None
        try:
            for block in iter(lambda: source.read(1 << 20), b""):
                if time.monotonic() > deadline:
                    tool.kill()
                    raise subprocess.TimeoutExpired(command, timeout)
                tool.stdin.write(block)
            tool.stdin.close()
        except BrokenPipeError:  # the tool stopped reading: it failed, and says why on stderr
            pass
        except (OSError, EOFError, zlib.error) as exc:
            tool.kill()
            err.write(f"the dump cannot be decompressed: {exc}".encode())
        returncode = tool.wait(max(1.0, deadline - time.monotonic()))
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(command, returncode, out.read().decode(errors="replace"),
                                           err.read().decode(errors="replace"))  # fmt: skip


def drop_scratch(admin: psycopg.Connection, name: str) -> None:
    """Drop a scratch database. Plainly first: that waits out an autovacuum worker on it, which WITH (FORCE)
    would have to terminate, and a role that is not a superuser may not (InsufficientPrivilege). FORCE only
    when a session of the drill's own is still connected (a pg_amcheck job left behind)."""
    drop = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
    try:
        admin.execute(drop)
    except psycopg.errors.ObjectInUse:
        admin.execute(drop + sql.SQL(" WITH (FORCE)"))


def _restore(server: ScratchServer, tools: dict[str, str], dump: str, outcome: DrillOutcome) -> None:
    """Replay the dump: read in place where it lies on this machine, else streamed from its host (only a
    directory-format dump cannot be streamed)."""
    files, form = outcome.backup.files, outcome.backup.dump_facts["format"]
    here = isinstance(files, LocalFiles)
    if form == "directory" and not here:
        outcome.restore_error = f"{dump} is a directory-format dump on {files.where}: run the drill on that host"
        return
    opener: Callable[[], BinaryIO] | None = None
    if not here or form == "plain-gzip":
        opener = (lambda: gzip.GzipFile(fileobj=files.open(dump), mode="rb")) if form == "plain-gzip" else (
            lambda: files.open(dump))  # fmt: skip
    source = "-" if opener else dump
    if form in ("plain", "plain-gzip"):  # as the manual's daily_backup.sh writes it
        command = [tools["psql"], "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", source]
    else:  # custom or directory format
        command = [tools["pg_restore"], "--exit-on-error", "--no-owner", "--single-transaction",
                   "-d", outcome.database] + ([] if opener else [dump])  # fmt: skip
    started = time.monotonic()
    result = server.run_tool(command, outcome.database, stdin=opener)
    outcome.restore_s = time.monotonic() - started
    if result.returncode != 0:
        outcome.restore_error = f"{Path(command[0]).name} exited {result.returncode}: {server.scrub(result.stderr)}"


def _measure(server: ScratchServer, outcome: DrillOutcome) -> None:
    started = time.monotonic()
    try:
        with server.connect(outcome.database) as conn:
            outcome.figures = backup_figures.figures(lambda q: conn.execute(q).fetchall())
            outcome.figures_s = time.monotonic() - started
    except psycopg.Error as exc:
        outcome.figures_error = server.scrub(str(exc))


def _amcheck(server: ScratchServer, tools: dict[str, str], outcome: DrillOutcome) -> None:
    """pg_amcheck over every table and B-tree index, each index checked against its heap (heapallindexed)."""
    started = time.monotonic()
    command = [tools["pg_amcheck"], "--heapallindexed", "--install-missing", "--jobs", "2", outcome.database]
    result = server.run_tool(command, outcome.database)
    outcome.amcheck_s = time.monotonic() - started
    outcome.amcheck_ok = result.returncode == 0
    outcome.amcheck_report = server.scrub(result.stdout + result.stderr)
