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

from sandbox import postgres
from sandbox.errors import SandboxError
from sandbox.state import Sandbox, State


def take_dump(sandbox: Sandbox, state: State, into: Path) -> dict:
    """pg_dump (the server's own major version) as the owner over TCP; returns the figures seen at dump time."""
    password = sandbox.secrets()["SANDBOX_PG_OWNER_PASSWORD"]
    port = state.ports["postgres"]
    env = {**os.environ, "PGPASSWORD": password}
    command = [str(postgres.bindir() / "pg_dump"), "-h", "127.0.0.1", "-p", str(port), "-U", "miraikakaku",
               "--no-owner", "-f", str(into), "miraikakaku"]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SandboxError(f"pg_dump failed: {result.stderr.strip()}")
    with psycopg.connect(host="127.0.0.1", port=port, dbname="miraikakaku", user="miraikakaku",
                         password=password) as conn:  # fmt: skip
        return figures(conn)


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
        "tool": "pg_dump " + postgres.bindir().parent.name,
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


def figures(conn) -> dict:
    """What a restore must reproduce: row counts per table, symbols, the date range of stock_prices."""
    counts = {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("stock_prices", "predictions", "batch_runs", "users", "sessions")
    }
    symbols, first, last = conn.execute(
        "SELECT count(DISTINCT symbol), min(date), max(date) FROM stock_prices"
    ).fetchone()
    return {"row_counts": counts, "symbols": symbols, "first_date": str(first), "last_date": str(last)}
