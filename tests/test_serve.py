"""`opscheck serve`: a fault turns /healthz to 503 within a period (and a run), heal turns it back; /metrics parses
as Prometheus reads it; the reports folder is served and cannot be written."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from sandbox.state import free_port
from tests.conftest import REPO, faulted

PERIOD_S = 5


def wait_for(url: str, status: int, within_s: float) -> float:
    """Seconds until `url` answers `status`; fails naming what it answered instead."""
    started, seen = time.monotonic(), None
    while time.monotonic() - started < within_s:
        try:
            seen = httpx.get(url, timeout=2).status_code
        except httpx.TransportError as exc:
            seen = type(exc).__name__
        if seen == status:
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"{url} still answers {seen} after {within_s} s, not {status}")


def test_healthz_follows_the_platform_and_metrics_and_reports_are_served(platform, tmp_path):
    port = free_port()
    env = {**os.environ, **{k: v for k, v in platform.secrets().items() if k.startswith("OPSCHECK_")}}
    command = [sys.executable, "-m", "opscheck.cli", "serve", "--target", str(platform.target_file),
               "--schedule", "daily", "--item", "D5", "--every", f"{PERIOD_S}s", "--port", str(port),
               "--reports-dir", str(tmp_path)]  # fmt: skip
    server = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/healthz", 200, 60)
        assert httpx.get(f"{base}/healthz").json()["schema"] == "opscheck.summary/1"
        families = {f.name: f for f in text_string_to_metric_families(httpx.get(f"{base}/metrics").text)}
        failed = families["opscheck_run_failed_checks"].samples
        assert failed and all(s.value == 0 for s in failed)
        run_id = httpx.get(f"{base}/healthz").json()["run_id"]
        assert httpx.get(f"{base}/reports/{run_id}/summary.json").status_code == 200
        assert httpx.post(f"{base}/reports/{run_id}/summary.json").status_code == 405, "read-only"
        with faulted(platform, "backup-stale"):
            took = wait_for(f"{base}/healthz", 503, 60)
            assert httpx.get(f"{base}/healthz").json()["failed_by_level"] == {"error": 1}
        print(f"503 after {took:.1f} s (period {PERIOD_S} s)")
        wait_for(f"{base}/healthz", 200, 60)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "exit 1; failed: {'error': 1}" in output and "Traceback" not in output, output
