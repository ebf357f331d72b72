"""The fault catalogue: what the sandbox can break on purpose, and which checks must catch it at what level.

The self-tests inject each fault into a healthy sandbox, run the checks, and require
that exactly the checks named in `catches` fail, each at its level, and nothing else.
`heal` undoes every active fault and restarts whatever is not running.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from sandbox import lifecycle, postgres
from sandbox.errors import SandboxError
from sandbox.state import Sandbox, State, atomic_write, is_ours, spawn, stop_process

HEALTH = "checks/test_health.py::test_component_reports_healthy"
BACKUPS = "checks/test_backups.py"
PG = "checks/test_postgres.py"
HELD_CONNECTIONS = 38


@dataclass(frozen=True)
class Fault:
    name: str
    breaks: str
    items: tuple[str, ...]
    catches: dict[str, str]
    inject: Callable[[Sandbox, State], None]
    heal: Callable[[Sandbox, State], None] = field(default=lambda sandbox, state: None)

    def line(self) -> str:
        levels = sorted(set(self.catches.values()), key=["warning", "error", "critical"].index)
        return f"{self.name:28} {self.breaks}; caught by {' '.join(self.items)} at {'/'.join(levels)}"


# --- processes ---------------------------------------------------------------------------------


def _stop(*names: str) -> Callable[[Sandbox, State], None]:
    def inject(sandbox: Sandbox, state: State) -> None:
        for name in names:
            stop_process(state.pids[name], str(sandbox.root))

    return inject


def _stop_postgres(sandbox: Sandbox, state: State) -> None:
    postgres.stop(Path(state.pg_dir))


def _hold_connections(sandbox: Sandbox, state: State) -> None:
    command = [sys.executable, "-m", "sandbox.faults", "hold", str(sandbox.root), str(HELD_CONNECTIONS)]
    pid = spawn(command, sandbox.run_logs / "fault-hold.out", env={**os.environ, "SANDBOX_DIR": str(sandbox.root)})
    _remember(sandbox, "pg-connections-exhausted", {"pid": pid})
    deadline = time.monotonic() + 20
    while not (sandbox.root / "run" / "held").exists():
        if time.monotonic() > deadline or not is_ours(pid, str(sandbox.root)):
            raise SandboxError(f"could not hold connections: see {sandbox.run_logs / 'fault-hold.out'}")
        time.sleep(0.05)


def hold(root: str, count: int) -> None:
    """The helper process of pg-connections-exhausted: open `count` idle sessions and keep them."""
    sandbox = Sandbox(Path(root))
    state = sandbox.read_state()
    assert state is not None
    password = sandbox.secrets()["SANDBOX_PG_OWNER_PASSWORD"]
    conns = [
        psycopg.connect(
            host="127.0.0.1",
            port=state.ports["postgres"],
            dbname="miraikakaku",
            user="miraikakaku",
            password=password,
            application_name="leaky-batch-job",
        )
        for _ in range(count)
    ]
    (sandbox.root / "run" / "held").touch()
    while conns:
        time.sleep(60)


# --- backups -----------------------------------------------------------------------------------


def _latest_sets(sandbox: Sandbox, kind: str, count: int = 1) -> list[Path]:
    of_kind = []
    for folder in sorted(sandbox.backups_local.iterdir()):
        record = folder / "backup.json"
        if record.is_file() and json.loads(record.read_text()).get("kind") == kind:
            of_kind.append(folder)
    if len(of_kind) < count:
        raise SandboxError(f"fewer than {count} {kind} backup set(s) to break")
    return of_kind[-count:]


def _keep_original(sandbox: Sandbox, fault: str, folder: Path) -> None:
    keep = sandbox.root / "faults" / fault / folder.name
    if not keep.exists():
        shutil.copytree(folder, keep)


def _restore_originals(fault: str) -> Callable[[Sandbox, State], None]:
    def heal(sandbox: Sandbox, state: State) -> None:
        kept = sandbox.root / "faults" / fault
        if not kept.is_dir():
            return
        for original in kept.iterdir():
            target = sandbox.backups_local / original.name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(original, target)
        shutil.rmtree(kept)

    return heal


def _set_aside_latest_daily(sandbox: Sandbox, state: State) -> None:
    """The daily job stopped two nights ago: its two newest sets never happened."""
    aside = sandbox.root / "faults" / "backup-stale"
    aside.mkdir(parents=True, exist_ok=True)
    for folder in _latest_sets(sandbox, "daily", 2):
        folder.rename(aside / folder.name)


def _put_back_daily(sandbox: Sandbox, state: State) -> None:
    aside = sandbox.root / "faults" / "backup-stale"
    if aside.is_dir():
        for folder in aside.iterdir():
            folder.rename(sandbox.backups_local / folder.name)
        aside.rmdir()


def _drop_config_archive(sandbox: Sandbox, state: State) -> None:
    """The job's tar step failed; it wrote a manifest of what it did have."""
    from sandbox.backup import write_manifest

    folder = _latest_sets(sandbox, "daily")[0]
    _keep_original(sandbox, "backup-incomplete", folder)
    for archive in folder.glob("config_*"):
        archive.unlink()
    write_manifest(folder)


def _empty_dump(sandbox: Sandbox, state: State) -> None:
    """pg_dump wrote nothing and the job checksummed the empty file anyway (GitLab, 2017)."""
    from sandbox.backup import write_manifest

    folder = _latest_sets(sandbox, "daily")[0]
    _keep_original(sandbox, "backup-empty-dump", folder)
    next(folder.glob("database_*")).write_bytes(b"")
    write_manifest(folder)


def _corrupt_dump(sandbox: Sandbox, state: State) -> None:
    """One byte in the middle of the dump flipped after it was written (bad disk, bad copy)."""
    folder = _latest_sets(sandbox, "daily")[0]
    _keep_original(sandbox, "backup-corrupt", folder)
    dump = next(folder.glob("database_*"))
    content = bytearray(dump.read_bytes())
    content[len(content) // 2] ^= 0x01
    dump.write_bytes(bytes(content))


def _unreadable_set(sandbox: Sandbox, state: State) -> None:
    folder = sandbox.backups_local / "20000101_000000"
    folder.mkdir()
    (folder / "backup.json").write_text("{ half a record")


def _remove_unreadable_set(sandbox: Sandbox, state: State) -> None:
    shutil.rmtree(sandbox.backups_local / "20000101_000000", ignore_errors=True)


# --- behaviour flags read by the running services ------------------------------------------------


def _flag(sandbox: Sandbox, state: State) -> None:
    """Nothing to do here: the service reads faults.json, where `inject` records every active fault."""


def _stop_holder(sandbox: Sandbox, state: State) -> None:
    info = _active(sandbox).get("pg-connections-exhausted", {})
    if "pid" in info:
        stop_process(info["pid"], str(sandbox.root))
    (sandbox.root / "run" / "held").unlink(missing_ok=True)


ERROR, CRITICAL, WARNING = "error", "critical", "warning"

CATALOGUE: dict[str, Fault] = {
    fault.name: fault
    for fault in [
        Fault("api-down", "the API process is killed", ("D1", "S1"),
              {f"{HEALTH}[api/health]": ERROR, f"{HEALTH}[api/api/health]": ERROR,
               f"{HEALTH}[ml_engine/api/ml/health]": ERROR, f"{HEALTH}[frontend/api/health]": ERROR},
              _stop("api")),
        Fault("frontend-down", "the front-end process is killed while the API lives", ("D1", "S1"),
              {f"{HEALTH}[frontend/api/health]": ERROR}, _stop("frontend")),
        Fault("platform-down", "API and front end both killed: nothing answers users", ("D1",),
              {f"{HEALTH}[api/health]": ERROR, f"{HEALTH}[api/api/health]": ERROR,
               f"{HEALTH}[ml_engine/api/ml/health]": ERROR, f"{HEALTH}[frontend/api/health]": ERROR,
               "checks/test_health.py::test_platform_answers_its_users": CRITICAL},
              _stop("api", "frontend")),
        Fault("ml-degraded", "the ML engine reports itself degraded: its model is not loaded", ("D1",),
              {f"{HEALTH}[ml_engine/api/ml/health]": ERROR}, _flag),
        Fault("streaming-stopped", "the streaming engine process is killed", ("D1",),
              {f"{HEALTH}[streaming_engine/health]": ERROR}, _stop("streaming")),
        Fault("monitoring-down", "the monitoring process is killed", ("D1",),
              {f"{HEALTH}[monitoring/health]": ERROR}, _stop("monitoring")),
        Fault("redis-down", "Redis is killed", ("D1",),
              {"checks/test_health.py::test_redis_answers": ERROR, f"{HEALTH}[api/api/health]": ERROR,
               f"{HEALTH}[streaming_engine/health]": ERROR},
              _stop("redis")),
        Fault("pg-down", "PostgreSQL is stopped", ("T5", "D1"),
              {f"{PG}::test_postgres_accepts_connections": ERROR,
               f"{PG}::test_postgres_is_ready_on_its_host[sandbox]": ERROR,
               f"{PG}::test_postgres_connections_under_limit": WARNING,
               f"{HEALTH}[api/api/health]": ERROR, f"{HEALTH}[ml_engine/api/ml/health]": ERROR},
              _stop_postgres),
        Fault("pg-connections-exhausted", f"a leaky job holds {HELD_CONNECTIONS} idle connections", ("T5",),
              {f"{PG}::test_postgres_connections_under_limit": WARNING}, _hold_connections, _stop_holder),
        Fault("backup-stale", "the daily backup job stopped two nights ago", ("D5", "B1"),
              {f"{BACKUPS}::test_latest_backup_is_fresh[daily]": ERROR}, _set_aside_latest_daily, _put_back_daily),
        Fault("backup-incomplete", "the latest daily set lacks its config archive", ("D5", "B2"),
              {f"{BACKUPS}::test_latest_backup_holds_every_part[daily]": ERROR}, _drop_config_archive,
              _restore_originals("backup-incomplete")),
        Fault("backup-empty-dump", "the latest daily dump is empty (and checksummed as such)", ("D5", "B2"),
              {f"{BACKUPS}::test_latest_backup_is_intact[daily]": CRITICAL}, _empty_dump,
              _restore_originals("backup-empty-dump")),
        Fault("backup-corrupt", "a byte in the middle of the latest daily dump is flipped", ("D5", "B2"),
              {f"{BACKUPS}::test_latest_backup_is_intact[daily]": CRITICAL}, _corrupt_dump,
              _restore_originals("backup-corrupt")),
        Fault("backup-unreadable", "a backup folder whose backup.json is cut short", ("D5",),
              {f"{BACKUPS}::test_every_backup_set_is_readable": ERROR}, _unreadable_set, _remove_unreadable_set),
    ]
}  # fmt: skip


def _active(sandbox: Sandbox) -> dict[str, dict]:
    try:
        return json.loads(sandbox.faults_file.read_text())
    except (OSError, ValueError):
        return {}


def _remember(sandbox: Sandbox, name: str, info: dict | None = None) -> None:
    active = _active(sandbox)
    active[name] = {**active.get(name, {}), **(info or {})}
    atomic_write(sandbox.faults_file, json.dumps(active))


def _running_state(sandbox: Sandbox) -> State:
    state = sandbox.read_state()
    if state is None:
        raise SandboxError(f"no sandbox is running in {sandbox.root}: run `opscheck sandbox up` first")
    return state


def inject(sandbox: Sandbox, name: str) -> Fault:
    fault = CATALOGUE.get(name)
    if fault is None:
        raise SandboxError(f"no fault named {name!r}: `opscheck sandbox faults` lists them")
    with sandbox.lock():
        state = _running_state(sandbox)
        _remember(sandbox, name)
        fault.inject(sandbox, state)
    return fault


def heal(sandbox: Sandbox) -> list[str]:
    """Undo every active fault, restart what is down, and wait until the platform is healthy again."""
    with sandbox.lock():
        state = _running_state(sandbox)
        active = list(_active(sandbox))
        for name in active:
            CATALOGUE[name].heal(sandbox, state)
        sandbox.faults_file.unlink(missing_ok=True)
        _restart_what_is_down(sandbox, state)
        lifecycle.wait_until_ready(sandbox, state)
    return active


def _restart_what_is_down(sandbox: Sandbox, state: State) -> None:
    marker = str(sandbox.root)
    pg_dir = Path(state.pg_dir)
    if not postgres.is_running(pg_dir):
        postgres.start(pg_dir)
    if not is_ours(state.pids["redis"], marker):
        state.pids["redis"] = lifecycle.start_redis(sandbox, state.ports["redis"])
    for name in lifecycle.SERVICES:
        if not is_ours(state.pids[name], marker):
            state.pids[name] = lifecycle.start_service(sandbox, name)
    sandbox.write_state(state)


def stop_fault_processes(sandbox: Sandbox) -> None:
    _stop_holder(sandbox, State())


if __name__ == "__main__" and sys.argv[1] == "hold":
    hold(sys.argv[2], int(sys.argv[3]))
