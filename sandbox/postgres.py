"""The sandbox's own PostgreSQL cluster: initdb'd into a fresh folder, on loopback, on a free port.

initdb refuses to run as root, so as root every server command runs as the `postgres`
user; the cluster lives under /tmp so that user can reach it wherever the repository is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sandbox.errors import SandboxError

SERVER_USER = "postgres"
CLOG_SEGMENT_BYTES = 32 * 8192  # pg_xact: 32 pages of 8 kB per segment file
CLOG_XIDS_PER_SEGMENT = CLOG_SEGMENT_BYTES * 4  # two status bits per transaction


def bindir() -> Path:
    """The server binaries' folder (`pg_config --bindir`), where pg_ctl and initdb live."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip())
        if (found / "initdb").exists():
            return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    raise SandboxError(
        "PostgreSQL server binaries not found (no initdb): install them, e.g. apt-get install postgresql-15"
    )


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVER_USER, "--", *command]


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(_as_server_user(command), capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise SandboxError(f"{what} failed: {detail[-1] if detail else f'exit {result.returncode}'}")


def make_cluster_dir() -> Path:
    pg_dir = Path(tempfile.mkdtemp(prefix="opscheck-sandbox-pg-"))
    pg_dir.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(pg_dir, SERVER_USER, SERVER_USER)
    return pg_dir


def init_cluster(pg_dir: Path, port: int, max_connections: int) -> None:
    data = pg_dir / "data"
    _run(
        [str(bindir() / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
         "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
        "initdb",
    )  # fmt: skip
    settings = {
        "port": port,
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{pg_dir}'",
        "max_connections": max_connections,
        "superuser_reserved_connections": 3,
        "shared_preload_libraries": "'pg_stat_statements'",
        "pg_stat_statements.track": "all",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "shared_buffers": "'64MB'",
        "logging_collector": "off",
        "track_io_timing": "on",
    }
    with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write("\n# opscheck sandbox\n")
        conf.writelines(f"{key} = {value}\n" for key, value in settings.items())


def start(pg_dir: Path) -> None:
    _run(
        [str(bindir() / "pg_ctl"), "-D", str(pg_dir / "data"), "-l", str(pg_dir / "server.log"), "-w", "-t", "30",
         "start"],
        "starting PostgreSQL (see its server.log)",
    )  # fmt: skip


def restart(pg_dir: Path) -> None:
    _run(
        [str(bindir() / "pg_ctl"), "-D", str(pg_dir / "data"), "-l", str(pg_dir / "server.log"), "-w", "-t", "30",
         "-m", "fast", "restart"],
        "restarting PostgreSQL (see its server.log)",
    )  # fmt: skip


def stop(pg_dir: Path) -> None:
    data = pg_dir / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(
            _as_server_user([str(bindir() / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "-t", "20", "stop"]),
            capture_output=True,
            timeout=60,
        )


def advance_transaction_ids(pg_dir: Path, by: int) -> None:
    """Move the cluster's next transaction ID `by` ahead, as years of traffic would (pg_resetwal -x).

    The server is stopped cleanly first (pg_resetwal refuses a crashed cluster) and started again;
    the commit-log segment holding the new ID is made, zero-filled, as pg_resetwal's manual asks.
    """
    data = pg_dir / "data"
    _run([str(bindir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "30", "stop"], "stopping PostgreSQL")
    control = subprocess.run(_as_server_user([str(bindir() / "pg_controldata"), str(data)]), capture_output=True,
                             text=True, timeout=30, check=True).stdout  # fmt: skip
    next_xid = int(next(line for line in control.splitlines() if "NextXID" in line).split(":")[-1])
    new_xid = next_xid + by
    segment = data / "pg_xact" / f"{new_xid // CLOG_XIDS_PER_SEGMENT:04X}"
    segment.write_bytes(bytes(CLOG_SEGMENT_BYTES))
    if os.geteuid() == 0:
        shutil.chown(segment, SERVER_USER, SERVER_USER)
    _run([str(bindir() / "pg_resetwal"), "-x", str(new_xid), str(data)], "pg_resetwal")
    start(pg_dir)


def is_running(pg_dir: Path) -> bool:
    data = pg_dir / "data"
    if not data.is_dir():
        return False
    result = subprocess.run(
        _as_server_user([str(bindir() / "pg_ctl"), "-D", str(data), "status"]), capture_output=True, timeout=30
    )
    return result.returncode == 0


def superuser_conninfo(pg_dir: Path, port: int, dbname: str = "postgres") -> str:
    """Local-socket trust login as the superuser: only the sandbox's own set-up uses it."""
    return f"host={pg_dir} port={port} user=postgres dbname={dbname}"


def read_prices(conn, blocks: int, counted_afresh: bool = True) -> None:
    """stock_prices read whole until about `blocks` blocks were read, after the statistics reset if
    `counted_afresh` (the cache hit ratio, W4, then measures only this reading). Without the reset (which would
    also forget when each table was analyzed, P2), the reads outweigh the initial load's, as weeks of traffic do.
    `conn`: a superuser's, in autocommit mode."""
    if counted_afresh:
        conn.execute("SELECT pg_stat_reset()")
    pages = conn.execute("SELECT greatest(relpages, 1) FROM pg_class WHERE relname = 'stock_prices'").fetchone()[0]
    for _ in range(max(1, blocks // pages)):
        conn.execute("SELECT count(*) FROM stock_prices")
    conn.execute("SELECT pg_stat_force_next_flush()")


def remove(pg_dir: Path) -> None:
    shutil.rmtree(pg_dir, ignore_errors=True)


def vacuum_analyze(conn, table: str = "") -> None:
    """VACUUM ANALYZE once this session's own changes are counted: PostgreSQL 15 reports a session's row
    counts up to a second late, and counts reported afterwards would make fresh statistics look stale (P2).
    `conn` must be in autocommit mode (VACUUM runs outside a transaction)."""
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute(f"VACUUM ANALYZE {table}".strip())
