"""A dead or black-holed target gives clear failures within its timeouts, never a hang, and no secret."""

from __future__ import annotations

import socket
import time

import pytest

from tests.conftest import run_pytest

SECRET = "s3cret-Value-only-in-env"


def _black_hole():
    """A port that accepts connections (the kernel completes them) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


black_hole = pytest.fixture(_black_hole)
pg_black_hole = pytest.fixture(_black_hole)
closed_port = pytest.fixture(_closed_port)
redis_closed_port = pytest.fixture(_closed_port)


def test_black_holed_and_refusing_parts_fail_fast_and_name_themselves(
    tmp_path, black_hole, pg_black_hole, closed_port, redis_closed_port
):
    target = tmp_path / "dead.toml"
    target.write_text(
        f"""name = "dead"
[http]
timeout_s = 1.0
[components.api]
base_url = "http://127.0.0.1:{black_hole}"
health = ["/health", "/api/health"]
[components.frontend]
base_url = "http://127.0.0.1:{closed_port}"
health = ["/api/health"]
[postgres]
host = "127.0.0.1"
port = {pg_black_hole}
user = "opscheck_monitor"
password_env = "OPSCHECK_DEAD_PW"
connect_timeout_s = 2
[redis]
url = "redis://127.0.0.1:{redis_closed_port}/0"
password_env = "OPSCHECK_DEAD_PW"
timeout_s = 1.0
[backups]
root = "{tmp_path / "no-backups"}"
[outside]
urls = ["http://opscheck-selftest.invalid/"]
resolve_timeout_s = 2
"""
    )
    started = time.monotonic()
    run = run_pytest(
        ["checks", "-m", "daily", "--target", str(target)], tmp_path / "reports", env={"OPSCHECK_DEAD_PW": SECRET}
    )
    elapsed = time.monotonic() - started
    assert elapsed < 30, f"a dead target took {elapsed:.0f} s"
    failed = run.failed()
    assert failed["checks/test_health.py::test_component_reports_healthy[api/health]"] == "error"
    assert failed["checks/test_health.py::test_platform_answers_its_users"] == "critical"
    assert failed["checks/test_postgres.py::test_postgres_accepts_connections"] == "error"
    assert failed["checks/test_health.py::test_redis_answers"] == "error"
    assert failed["checks/test_backups.py::test_latest_backup_is_fresh[daily]"] == "error"
    # One preflight names each dead part once, as the root cause; the checks that need it are blocked by it.
    causes = {c["part"]: c["message"] for c in run.summary["root_causes"]}
    assert causes == {
        "api": f"API server (FastAPI) at 127.0.0.1:{black_hole} is down: no answer within 1 s",
        "frontend": f"front end (Next.js) at 127.0.0.1:{closed_port} is down: cannot connect ([Errno 111] "
        "Connection refused)",
        "postgres": f"PostgreSQL at 127.0.0.1:{pg_black_hole} is down: no answer within 1 s",
        "redis": f"Redis at 127.0.0.1:{redis_closed_port} is down: connection refused",
    }
    assert run.output.count("ROOT CAUSE — ERROR — ") == 4
    assert f"blocked: Redis at 127.0.0.1:{redis_closed_port} is down (connection refused)" in run.output
    assert "DNS at opscheck-selftest.invalid: does not resolve" in run.output  # RFC 6761: .invalid never does
    where = "on this machine (where pytest runs)"  # said, so a folder that lives on a backup server is not a mystery
    assert f"backup store at {tmp_path / 'no-backups'} {where}: no such directory" in run.output
    skipped = [c for c in run.summary["checks"] if c["outcome"] == "skipped"]
    health = "checks/test_health.py::test_component_reports_healthy["
    assert {c["nodeid"][len(health) : -1] for c in skipped if c["nodeid"].startswith(health)} == {
        "ml_engine",
        "streaming_engine",
        "monitoring",
    }
    assert all("declares no" in c["message"] for c in skipped), "every skip says why"
    written = [run.output] + [p.read_text(errors="replace") for p in run.run_dir.iterdir() if p.is_file()]
    assert not [text for text in written if SECRET in text], "a secret reached the output or the run folder"
