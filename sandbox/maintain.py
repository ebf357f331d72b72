"""`opscheck sandbox maintain [--skip STEP]`: the manual's weekly maintenance window, done for real, now.

Before: a full backup (MW1). During: VACUUM ANALYZE, REINDEX, logrotate, restart (MW2).
`pytest -m post_maintenance --window-start …` then proves it (MW3). Skipping a step is how the
self-tests show that each post-maintenance check notices the step that was not done.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from sandbox import backup, cgroup, lifecycle, postgres
from sandbox.errors import SandboxError
from sandbox.state import Sandbox, atomic_write

STEPS = ("backup", "vacuum", "reindex", "logrotate", "restart")


def maintain(sandbox: Sandbox, skip: frozenset[str] = frozenset()) -> datetime:
    """Run the window's steps (all but `skip`); returns when the window started."""
    unknown = skip - set(STEPS)
    if unknown:
        raise SandboxError(f"no maintenance step {', '.join(sorted(unknown))}: the steps are {', '.join(STEPS)}")
    started = datetime.now(UTC)
    with sandbox.lock():
        state = sandbox.read_state()
        if state is None:
            raise SandboxError(f"no sandbox is running in {sandbox.root}: run `opscheck sandbox up` first")
        if "backup" not in skip:
            backup.run_job(sandbox, state, "daily", datetime.now(UTC))
        conninfo = postgres.superuser_conninfo(Path(state.pg_dir), state.ports["postgres"], "miraikakaku")
        with psycopg.connect(conninfo, autocommit=True) as conn:
            if "vacuum" not in skip:
                postgres.vacuum_analyze(conn)
            if "reindex" not in skip:
                conn.execute("REINDEX TABLE CONCURRENTLY stock_prices")
        if "logrotate" not in skip:
            command = ["logrotate", "-f", "-s", str(sandbox.root / "logrotate.state"),
                       str(sandbox.config_dir / "logrotate.conf")]  # fmt: skip
            result = subprocess.run(command, capture_output=True, text=True, timeout=120)
            if result.returncode != 0:
                raise SandboxError(f"logrotate failed: {result.stderr.strip()[-300:]}")
        with cgroup.unthrottled(state.cgroup):
            if "restart" not in skip:
                for name in lifecycle.SERVICES:
                    lifecycle.restart_service(sandbox, state, name)
                sandbox.write_state(state)
            lifecycle.wait_until_ready(sandbox, state)
    record = {"window_start": started.isoformat(), "skipped": sorted(skip)}
    atomic_write(sandbox.root / "maintenance.json", json.dumps(record))
    return started
