"""The backup job. In the default shape, the manual's daily_backup.sh plus what a verifiable backup records:
a set is `<root>/<YYYYmmdd_HHMMSS>/` holding database_<ts>.sql (pg_dump, plain), config_<ts>.tar.gz,
logs_<ts>.tar.gz, SHA256SUMS, and backup.json (kind, when it finished, the database's figures at dump time).
In the manual shape, the manual's own scripts, run by bash, leave only what they write (sandbox/scripts):
the daily plain dump with its two archives, the hourly dump gzipped, the weekly in pg_dump's custom format.
Either way the set is then copied off-site (the manual's `aws s3 sync`; here a folder).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import time
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from opscheck.judge.backup_kinds import Taken, kinds_by_schedule
from opscheck.probes import backup_figures
from sandbox import postgres, s3
from sandbox.errors import SandboxError
from sandbox.shape import of
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
    """One run of the scheduled job: dump now, lay out the set, copy it off-site. A set is named by its second,
    as the manual's script names it: a second run within the same second waits for the next."""
    scripted = of(state.shape).backup_job == "script"
    while (sandbox.backups_local / set_name(now, of(state.shape).zone if scripted else None)).exists():
        time.sleep(1.01 - now.microsecond / 1e6)
        now = datetime.now(UTC)
    if scripted:
        return run_script(sandbox, state, kind, now)
    dump = sandbox.run_logs / f"dump-{os.getpid()}.sql"
    try:
        return write_set(sandbox, kind, now, dump, take_dump(sandbox, state, dump))
    finally:
        dump.unlink(missing_ok=True)


def set_name(finished: datetime, zone: tzinfo | None = None) -> str:
    """The set's folder name: the job's time to the second (`date +%Y%m%d_%H%M%S`), in `zone` or the local one."""
    return finished.astimezone(zone).strftime("%Y%m%d_%H%M%S")


def write_set(sandbox: Sandbox, kind: str, finished: datetime, dump: Path, figures: dict) -> Path:
    """Lay out one backup set from an existing dump, as the job would have at `finished` (local time name)."""
    stamp = set_name(finished)
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
    state = sandbox.read_state()
    if s3.uses_s3(state):
        s3.sync(sandbox, state, folder)  # the manual's aws s3 sync, into the sandbox's own S3 server
    else:
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
    """The local backup sets of `kind`, oldest first (by their folder's time stamp): the record's kind, else the
    kind whose schedule fired when the set was taken (as opscheck tells it)."""
    folders = sorted(p for p in sandbox.backups_local.iterdir() if p.is_dir())
    recorded = {f: json.loads((f / "backup.json").read_text()).get("kind") for f in folders
                if (f / "backup.json").is_file()}  # fmt: skip
    state = sandbox.read_state()
    zone = of(state.shape if state else "default").zone
    taken = []
    for folder in folders:
        try:
            stamp = datetime.strptime(folder.name, "%Y%m%d_%H%M%S").replace(tzinfo=zone)
        except ValueError:
            continue
        taken.append(Taken(folder.name, stamp, sum(1 for _ in folder.glob("*_*"))))
    told = kinds_by_schedule(taken, SCHEDULES, timedelta(minutes=30))
    return [f for f in folders if recorded.get(f, told.get(f.name)) == kind]


# --- the manual shape: the manual's own scripts -------------------------------------------------------------

SCHEDULES = {"hourly": "0 * * * *", "daily": "0 3 * * *", "weekly": "0 4 * * 0"}
SCRIPT_HEAD = """#!/bin/bash
# {name} — as the operations manual writes it (バックアップスクリプト例), with this sandbox's paths.
# Two additions the manual's text needs to run at all: `mkdir -p` (pg_dump cannot write into a folder
# that does not exist), and --no-owner --no-comments so a role that is not a superuser can restore it.
# The off-site copy is a folder here, where the manual runs `aws s3 sync`.
set -e
DATE=${{BACKUP_DATE:-$(date +%Y%m%d_%H%M%S)}}
BACKUP_DIR="{root}/$DATE"
mkdir -p "$BACKUP_DIR"
"""
DUMPS = {
    "daily": "pg_dump -h 127.0.0.1 -p {port} -U miraikakaku --no-owner --no-comments miraikakaku > \\\n"
    "  $BACKUP_DIR/database_$DATE.sql\n",
    "hourly": "pg_dump -h 127.0.0.1 -p {port} -U miraikakaku --no-owner --no-comments miraikakaku | gzip > \\\n"
    "  $BACKUP_DIR/database_$DATE.sql.gz\n",
    "weekly": "pg_dump -Fc -h 127.0.0.1 -p {port} -U miraikakaku --no-owner --no-comments -f \\\n"
    "  $BACKUP_DIR/database_$DATE.dump miraikakaku\n",
}
ARCHIVES = """
# アプリケーション設定バックアップ
tar -czf $BACKUP_DIR/config_$DATE.tar.gz -C {root_of_config} {config_name}

# ログバックアップ
tar -czf $BACKUP_DIR/logs_$DATE.tar.gz -C {root_of_logs} {logs_name}
"""
OFFSITE = """
# AWS S3にアップロード (here: the off-site folder)
mkdir -p {offsite}/$DATE && cp -p $BACKUP_DIR/* {offsite}/$DATE/

echo "Backup completed: $BACKUP_DIR"
"""


def write_scripts(sandbox: Sandbox, state: State) -> None:
    """The manual's three backup scripts, with this sandbox's paths, port and binaries."""
    scripts = sandbox.root / "scripts"
    scripts.mkdir(exist_ok=True)
    for kind, dump in DUMPS.items():
        text = SCRIPT_HEAD.format(name=f"{kind}_backup.sh", root=sandbox.backups_local)
        text += f'export PATH="{postgres.bindir()}:$PATH"\n\n# データベースバックアップ\n'
        text += dump.format(port=state.ports["postgres"])
        if kind != "hourly":
            text += ARCHIVES.format(root_of_config=sandbox.config_dir.parent, config_name=sandbox.config_dir.name,
                                    root_of_logs=sandbox.logs.parent, logs_name=sandbox.logs.name)  # fmt: skip
        text += OFFSITE.format(offsite=sandbox.backups_offsite)
        script = scripts / f"{kind}_backup.sh"
        script.write_text(text)
        script.chmod(0o755)


def run_script(sandbox: Sandbox, state: State, kind: str, when: datetime, backdate: bool = False) -> Path:
    """Run the manual's script for `kind`; `backdate`: as if at `when` (its files' times set to then)."""
    zone = of(state.shape).zone
    stamp = set_name(when, zone)
    env = {**os.environ, "PGPASSWORD": sandbox.secrets()["SANDBOX_PG_OWNER_PASSWORD"], "TZ": of(state.shape).timezone}
    if backdate:
        env["BACKUP_DATE"] = stamp
    script = sandbox.root / "scripts" / f"{kind}_backup.sh"
    result = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SandboxError(f"{script.name} failed: {result.stderr.strip()[-500:]}")
    folder = Path(result.stdout.strip().rsplit(": ", 1)[-1])
    if backdate:
        finished = when.timestamp() + 30  # the job took half a minute
        for place in (folder, sandbox.backups_offsite / folder.name):
            for file in place.iterdir():
                os.utime(file, (finished, finished))
    return folder
