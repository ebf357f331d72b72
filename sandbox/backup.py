"""The backup job, as the manual's daily_backup.sh, plus what a verifiable backup must record.

A set is `<root>/<YYYYmmdd_HHMMSS>/` holding database_<ts>.sql (pg_dump, plain), config_<ts>.tar.gz,
logs_<ts>.tar.gz, SHA256SUMS, and backup.json: kind, when it finished, and the database's
figures at dump time. The set is then copied off-site (the manual's `aws s3 sync`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from opscheck.probes import backup_figures
from sandbox import postgres
from sandbox.errors import SandboxError
from sandbox.state import Sandbox, State


def take_dump(sandbox: Sandbox, state: State, into: Path) -> dict:
    """pg_dump (the server's own major version) as the owner over TCP; returns the figures seen at dump time.

    Without owners and comments, so a role that is not a superuser can restore it (COMMENT ON EXTENSION
    needs the extension's owner): the restore drill's role is such a role.
    """
    password = sandbox.secrets()["SANDBOX_PG_OWNER_PASSWORD"]
    port = state.ports["postgres"]
    env = {**os.environ, "PGPASSWORD": password}
    command = [str(postgres.bindir() / "pg_dump"), "-h", "127.0.0.1", "-p", str(port), "-U", "miraikakaku",
               "--no-owner", "--no-comments", "-f", str(into), "miraikakaku"]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SandboxError(f"pg_dump failed: {result.stderr.strip()}")
    with psycopg.connect(host="127.0.0.1", port=port, dbname="miraikakaku", user="miraikakaku",
                         password=password, row_factory=dict_row) as conn:  # fmt: skip
        return backup_figures.figures(lambda sql: conn.execute(sql).fetchall())


def run_job(sandbox: Sandbox, state: State, kind: str, now: datetime) -> Path:
    """One run of the scheduled job: dump now, lay out the set, copy it off-site."""
    dump = sandbox.run_logs / f"dump-{os.getpid()}.sql"
    try:
        return write_set(sandbox, kind, now, dump, take_dump(sandbox, state, dump))
    finally:
        dump.unlink(missing_ok=True)


def write_set(sandbox: Sandbox, kind: str, finished: datetime, dump: Path, figures: dict) -> Path:
    """Lay out one backup set from an existing dump, as the job would have at `finished` (local time name)."""
    stamp = finished.astimezone().strftime("%Y%m%d_%H%M%S")
    folder = sandbox.backups_local / stamp
    folder.mkdir(parents=True)
    shutil.copyfile(dump, folder / f"database_{stamp}.sql")
    if kind != "hourly":
        _tar(folder / f"config_{stamp}.tar.gz", sandbox.config_dir)
        _tar(folder / f"logs_{stamp}.tar.gz", sandbox.logs)
    write_manifest(folder)
    record = {
        "kind": kind,
        "finished_at": finished.astimezone(UTC).isoformat(),
        "tool": dump_tool_version(),
        "figures": figures,
    }
    (folder / "backup.json").write_text(json.dumps(record, indent=2))
    shutil.copytree(folder, sandbox.backups_offsite / stamp)
    return folder


def write_manifest(folder: Path) -> None:
    lines = []
    for file in sorted(p for p in folder.iterdir() if p.is_file() and p.name not in ("SHA256SUMS", "backup.json")):
        lines.append(f"{hashlib.sha256(file.read_bytes()).hexdigest()}  {file.name}\n")
    (folder / "SHA256SUMS").write_text("".join(lines))


def _tar(archive: Path, source: Path) -> None:
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source, arcname=source.name)


def dump_tool_version() -> str:
    """What the job records as its tool: `pg_dump --version`, e.g. "pg_dump (PostgreSQL) 15.18"."""
    result = subprocess.run(
        [str(postgres.bindir() / "pg_dump"), "--version"], capture_output=True, text=True, timeout=30
    )
    return result.stdout.strip()


def sets_of_kind(sandbox: Sandbox, kind: str) -> list[Path]:
    """The local backup sets of `kind`, oldest first (by their folder's time stamp)."""
    records = [(folder, folder / "backup.json") for folder in sorted(sandbox.backups_local.iterdir())]
    return [f for f, r in records if r.is_file() and json.loads(r.read_text()).get("kind") == kind]
