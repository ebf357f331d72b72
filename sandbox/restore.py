"""`opscheck sandbox restore [SET]`: a real restore of the platform from one of its backup sets.

What the manual's recovery procedure does (復旧手順): stop the services, recreate the database
from the dump, put the configuration back from the config archive, start the services on cold
caches. `pytest -m post_restore` then proves the result (R1, R2).
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import redis

from sandbox import backup, cgroup, lifecycle, postgres
from sandbox.errors import SandboxError
from sandbox.state import Sandbox, State, atomic_write, stop_process


def restore(sandbox: Sandbox, set_name: str | None = None) -> Path:
    """Restore the sandbox from `set_name` (default: the newest daily set); returns the set's folder."""
    with sandbox.lock():
        state = sandbox.read_state()
        if state is None:
            raise SandboxError(f"no sandbox is running in {sandbox.root}: run `opscheck sandbox up` first")
        folder = _choose(sandbox, set_name)
        for name in lifecycle.SERVICES:
            stop_process(state.pids[name], str(sandbox.root))
        _restore_database(sandbox, state, next(folder.glob("database_*")))
        config = next(folder.glob("config_*"), None)
        if config is not None:
            with tarfile.open(config, "r:gz") as tar:
                tar.extractall(sandbox.config_dir.parent, filter="data")
        cold = redis.Redis(host="127.0.0.1", port=state.ports["redis"], socket_timeout=5,
                           password=sandbox.secrets()["OPSCHECK_SANDBOX_REDIS_PASSWORD"])  # fmt: skip
        cold.flushall()
        cold.close()
        with cgroup.unthrottled(state.cgroup):
            for name in lifecycle.SERVICES:
                state.pids[name] = lifecycle.start_service(sandbox, name)
            sandbox.write_state(state)
            lifecycle.wait_until_ready(sandbox, state)
        record = {"set": folder.name, "restored_at": datetime.now(UTC).isoformat()}
        atomic_write(sandbox.root / "restored.json", json.dumps(record))
    return folder


def _choose(sandbox: Sandbox, set_name: str | None) -> Path:
    if set_name:
        folder = sandbox.backups_local / set_name
        if not (folder / "backup.json").is_file():
            raise SandboxError(f"no backup set {set_name} in {sandbox.backups_local}")
        return folder
    daily = backup.sets_of_kind(sandbox, "daily")
    if not daily:
        raise SandboxError(f"no daily backup set in {sandbox.backups_local} to restore from")
    return daily[-1]


def _restore_database(sandbox: Sandbox, state: State, dump: Path) -> None:
    """Recreate the database and replay the dump as its owner, stopping at the first error."""
    port = state.ports["postgres"]
    with psycopg.connect(postgres.superuser_conninfo(Path(state.pg_dir), port), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS miraikakaku WITH (FORCE)")
        conn.execute("CREATE DATABASE miraikakaku OWNER miraikakaku")
    env = {**os.environ, "PGPASSWORD": sandbox.secrets()["SANDBOX_PG_OWNER_PASSWORD"]}
    command = [str(postgres.bindir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
               "-h", "127.0.0.1", "-p", str(port), "-U", "miraikakaku", "-d", "miraikakaku",
               "-f", str(dump)]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise SandboxError(f"the restore of {dump.name} failed: {result.stderr.strip()[-500:]}")
    with psycopg.connect(postgres.superuser_conninfo(Path(state.pg_dir), port, "miraikakaku"), autocommit=True) as conn:
        postgres.vacuum_analyze(conn)  # a restore leaves no statistics; the procedure's last step makes them
