"""The webhook is told of a failing run (and not of a passing one); a receiver that is down or slow never
holds the run up or hides its result; the textfile parses as Prometheus reads it."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sandbox.state import free_port
from tests.conftest import faulted, run_pytest

SECRET_PATH = "/hooks/T000-secret-token"


class Receiver(http.server.ThreadingHTTPServer):
    """A local Slack-compatible webhook receiver that keeps what it was sent (and can be slow)."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.received: list[dict] = []
        self.delay_s = delay_s
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                time.sleep(receiver.delay_s)
                receiver.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", free_port()), Handler)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def notify_target(platform, tmp_path, url: str):
    """The sandbox's target with a [notify] section; returns (target path, env, textfile path)."""
    textfile = tmp_path / "opscheck.prom"
    target = tmp_path / "notify.toml"
    target.write_text(
        platform.target_file.read_text()
        + f'''
[notify]
webhook_url_env = "OPSCHECK_TEST_WEBHOOK"
level = "error"
timeout_s = 2
textfile = "{textfile}"
'''
    )
    env = {k: v for k, v in platform.secrets().items() if k.startswith("OPSCHECK_")}
    return target, {**env, "OPSCHECK_TEST_WEBHOOK": url}, textfile


def test_a_failing_run_is_sent_and_a_passing_one_is_not(platform, receiver, tmp_path):
    url = f"http://127.0.0.1:{receiver.server_port}{SECRET_PATH}"
    target, env, textfile = notify_target(platform, tmp_path, url)
    args = ["checks", f"--target={target}", "-m", "daily and morning"]
    passing = run_pytest(args, tmp_path / "reports", env)
    assert passing.returncode == 0 and receiver.received == [], "nothing to tell on a passing run"
    with faulted(platform, "frontend-down"):
        failing = run_pytest(args, tmp_path / "reports", env)
    assert failing.returncode == 1 and "Notified the webhook" in failing.output
    [body] = receiver.received
    assert "ERROR" in body["text"] and "test_component_reports_healthy[frontend/api/health]" in body["text"]
    assert str(failing.run_dir / "report.html") in body["text"]
    assert SECRET_PATH not in failing.output, "the webhook URL holds a token: never printed"

    metrics = {f.name: f for f in text_string_to_metric_families(textfile.read_text())}
    statuses = {s.labels["check"]: s.value for s in metrics["opscheck_check_status"].samples}
    assert statuses["checks/test_health.py::test_component_reports_healthy[frontend/api/health]"] == 0
    assert statuses["checks/test_health.py::test_component_reports_healthy[api/health]"] == 1
    failed = {s.labels["level"]: s.value for s in metrics["opscheck_run_failed_checks"].samples}
    assert failed["error"] >= 1 and metrics["opscheck_run_timestamp_seconds"].samples[0].value > time.time() - 300


@pytest.mark.parametrize("how", ["down", "slow"])
def test_a_webhook_that_is_down_or_slow_never_holds_the_run(platform, tmp_path, how):
    slow = Receiver(delay_s=10)
    if how == "slow":
        threading.Thread(target=slow.serve_forever, daemon=True).start()
    port = slow.server_port if how == "slow" else free_port()
    target, env, _ = notify_target(platform, tmp_path, f"http://127.0.0.1:{port}{SECRET_PATH}")
    with faulted(platform, "frontend-down"):
        started = time.monotonic()
        run = run_pytest(["checks", f"--target={target}", "-m", "daily and morning"], tmp_path / "reports", env)
        took = time.monotonic() - started
    if how == "slow":
        slow.shutdown()
    slow.server_close()
    assert run.returncode == 1, "the run's own result, whatever became of the notification"
    assert "could not notify the webhook" in run.output and SECRET_PATH not in run.output
    assert took < 30 and ("no answer within 2 s" in run.output) == (how == "slow")
