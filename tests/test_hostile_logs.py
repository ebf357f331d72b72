"""Hostile files (issue: bounded on any log): each ends in a clear result within the cost of a healthy run of the
same checks — never a hang. The bound is asserted as a ratio to a healthy run, not as a wall-clock time."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from opscheck.judge.logformats import app_time
from opscheck.probes.logs import LogFile
from tests.conftest import REPO, run_pytest

CHECKS = ["-m", "daily", "-k", "test_log_errors_within_limits or test_log_is_present_and_being_written"]


def _line(moment: datetime, level: str, message: str) -> bytes:
    return f"{moment:%Y-%m-%d %H:%M:%S},000 {level} miraikakaku.api {message}\n".encode()


def _healthy(path) -> None:
    now = datetime.now(UTC)
    path.write_bytes(b"".join(_line(now - timedelta(minutes=m), "INFO", "ok") for m in range(600, 0, -1)))


def _run(tmp_path, log) -> tuple[object, float]:
    target = tmp_path / "t.toml"
    target.write_text(f'name = "hostile"\n[logs]\napp = "{log}"\n')
    started = time.monotonic()
    run = run_pytest(["checks", f"--target={target}", *CHECKS], tmp_path / "reports")
    return run, time.monotonic() - started


def _sparse(path) -> None:
    with open(path, "wb") as out:
        out.truncate(2 << 30)  # 2 GB of NUL bytes without a line break: what a bad truncate leaves


def _long_line(path) -> None:
    now = datetime.now(UTC)
    path.write_bytes(_line(now, "ERROR", "x" * (20 << 20)) + _line(now, "INFO", "ok"))


def _fifo(path) -> None:
    os.mkfifo(path)


def _loop(path) -> None:
    os.symlink(path, path)


def _clock_stepped_back(path) -> None:
    now = datetime.now(UTC)
    lines = [_line(now - timedelta(minutes=m), "INFO", "ok") for m in range(300, 100, -1)]
    lines += [_line(now - timedelta(hours=9, minutes=m), "ERROR", "after the step") for m in range(50)]
    lines += [_line(now - timedelta(minutes=m), "INFO", "ok") for m in range(100, 0, -1)]
    path.write_bytes(b"".join(lines))


HOSTILE = {"sparse NUL file, 2 GB, no line break": (_sparse, "passed"),
           "a 20 MB line": (_long_line, "passed"),
           "a FIFO": (_fifo, "a fifo, not a regular file"),
           "a symlink loop": (_loop, "not a regular file"),
           "stamps out of order": (_clock_stepped_back, "passed")}  # fmt: skip


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_log_ends_in_a_clear_result_at_a_healthy_runs_cost(tmp_path, kind):
    make, said = HOSTILE[kind]
    (tmp_path / "healthy").mkdir()
    (tmp_path / "hostile").mkdir()
    _healthy(tmp_path / "healthy" / "api.log")
    _, healthy_s = _run(tmp_path / "healthy", tmp_path / "healthy" / "api.log")
    make(tmp_path / "hostile" / "api.log")
    run, hostile_s = _run(tmp_path / "hostile", tmp_path / "hostile" / "api.log")
    assert hostile_s <= 3 * healthy_s, f"{kind}: {hostile_s:.1f} s against {healthy_s:.1f} s for a healthy log"
    outcomes = {c["outcome"] for c in run.summary["checks"]}
    if said == "passed":
        assert run.failed() == {} or all(
            "WARNING" in c["message"] or "line" in c["message"]
            for c in run.summary["checks"]
            if c["outcome"] == "failed"
        ), run.output
    else:
        assert "failed" in outcomes or "error" in outcomes, run.output
        assert said in run.output, run.output
    assert "Traceback" not in run.output


def test_a_log_truncated_while_read_ends_its_read(tmp_path):
    """logrotate's copytruncate during a read: the read ends where the file now does, without an error."""
    path = tmp_path / "api.log"
    now = datetime.now(UTC)
    path.write_bytes(b"".join(_line(now - timedelta(seconds=s), "INFO", "ok" * 40) for s in range(200_000, 0, -1)))
    log = LogFile("app", path, app_time(UTC))
    lines = log.lines(since=0)
    next(lines)
    threading.Thread(target=lambda: os.truncate(path, 0)).start()
    assert sum(1 for _ in lines) < 200_000


def test_a_log_it_may_not_read_is_named_as_permission_denied(tmp_path):
    """Another user's 0600 log, read without root's override (a user namespace drops it): one line that says so."""
    path = tmp_path / "api.log"
    _healthy(path)
    os.chown(path, 12345, 12345)
    path.chmod(0o600)
    probe = ("from opscheck.errors import ProbeError\nfrom opscheck.probes.logs import LogFile\n"
             "from opscheck.judge.logformats import app_time\nfrom datetime import UTC\n"
             f"try:\n    sum(1 for _ in LogFile('app', {str(path)!r}, app_time(UTC)).lines(since=0))\n"
             "except ProbeError as exc:\n    print(exc)\n")  # fmt: skip
    run = subprocess.run(["unshare", "--user", sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert f"{path}" in run.stdout and "Permission denied" in run.stdout, run.stdout


def test_a_log_rotated_while_read_ends_its_read(tmp_path):
    """logrotate's `create` during a read: the file renamed and a new one made; the read ends without an error."""
    path = tmp_path / "api.log"
    now = datetime.now(UTC)
    path.write_bytes(b"".join(_line(now - timedelta(seconds=s), "INFO", "ok" * 40) for s in range(200_000, 0, -1)))
    lines = LogFile("app", path, app_time(UTC)).lines(since=0)
    next(lines)
    os.rename(path, tmp_path / "api.log.1")
    path.write_bytes(_line(now, "INFO", "after the rotation"))
    assert 0 < sum(1 for _ in lines) < 200_001
