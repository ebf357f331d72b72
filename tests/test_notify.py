"""The manual's escalation flow against a webhook receiver on loopback: one message per incident on Level 1,
escalated to Level 2 and 3 by the clock of the suite's history, "resolved" when it passes; a receiver that is
down or slow never holds the run up or hides its result; the textfile parses as Prometheus reads it."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sandbox.state import free_port
from tests.conftest import faulted, run_pytest

SECRET_PATH = "/hooks/T000-secret-token"


class Receiver(http.server.ThreadingHTTPServer):
    """A local Slack-compatible webhook receiver that keeps what it was sent, by path (and can be slow)."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.received: list[tuple[str, dict]] = []
        self.delay_s = delay_s
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                time.sleep(receiver.delay_s)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.received.append((self.path, body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", free_port()), Handler)

    def url(self, path: str = SECRET_PATH) -> str:
        return f"http://127.0.0.1:{self.server_port}{path}"

    def take(self) -> list[tuple[str, str, str]]:
        """(path, channel, text) of what came since the last take."""
        got, self.received = self.received, []
        return [(path, body["channel"], body["text"]) for path, body in got]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def notify_target(platform, tmp_path, url: str | None, level2_url: str | None = None):
    """The sandbox's target with a [notify] section: the shared webhook `url`, Level 2's own when given;
    returns (target path, env, textfile path)."""
    textfile = tmp_path / "opscheck.prom"
    target = tmp_path / "notify.toml"
    own = '\n[notify.level2]\nchannel = "#ops-level2"\nwebhook_url_env = "OPSCHECK_TEST_LEVEL2"\n' if level2_url else ""
    target.write_text(
        platform.target_file.read_text()
        + f'''
[notify]
{'webhook_url_env = "OPSCHECK_TEST_WEBHOOK"' if url else ""}
level = "error"
timeout_s = 2
textfile = "{textfile}"
{own}'''
    )
    env = {k: v for k, v in platform.secrets().items() if k.startswith("OPSCHECK_")}
    return target, {**env, "OPSCHECK_TEST_WEBHOOK": url or "", "OPSCHECK_TEST_LEVEL2": level2_url or ""}, textfile


def incidents(run) -> tuple[list[str], str]:
    """What a run tells: each root cause once (its blocked checks under it) and each failure none explains; and the
    front end's root cause, whose message carries the manual's remedy."""
    summary = json.loads((run.run_dir / "summary.json").read_text())
    roots = summary.get("root_causes") or []
    blocked = {nodeid for root in roots for nodeid in root["blocks"]}
    alone = [
        c["nodeid"] for c in summary["checks"] if c["outcome"] in ("failed", "error") and c["nodeid"] not in blocked
    ]
    front = next(root["id"] for root in roots if root["part"] == "frontend")
    return [root["id"] for root in roots] + alone, front


MORNING = ["-m", "daily and morning"]


def test_each_incident_is_told_once_on_level_1_then_resolved(platform, receiver, tmp_path):
    target, env, textfile = notify_target(platform, tmp_path, receiver.url())
    args, reports = ["checks", f"--target={target}", *MORNING], tmp_path / "reports"
    passing = run_pytest(args, reports, env)
    assert passing.returncode == 0 and receiver.take() == [], "nothing to tell on a passing run"
    with faulted(platform, "frontend-down"):
        failing = run_pytest(args, reports, env)
        told, prom = receiver.take(), textfile.read_text()
        again = run_pytest(args, reports, env)
    assert failing.returncode == 1 and again.returncode == 1
    keys, front = incidents(failing)
    assert {channel for _, channel, _ in told} == {"#ops-level1"} and len(told) == len(keys)
    assert all(any(key in text for _, _, text in told) for key in keys), "one message per incident"
    [health] = [text for _, _, text in told if front in text]
    assert health.startswith("🔔 ERROR → Level 1 (#ops-level1)") and "systemctl restart miraikakaku-frontend" in health
    assert str(failing.run_dir / "report.html") in health
    assert f"Notified $OPSCHECK_TEST_WEBHOOK (#ops-level1): {len(told)} firing." in failing.output
    assert receiver.take() == [], "the next run of the same incidents tells nothing again"
    assert SECRET_PATH not in failing.output + again.output, "the webhook URL holds a token: never printed"

    healed = run_pytest(args, reports, env)
    resolved = receiver.take()
    assert healed.returncode == 0 and len(resolved) == len(told)
    assert all(text.startswith("✅ RESOLVED") for _, _, text in resolved)
    assert run_pytest(args, reports, env).returncode == 0 and receiver.take() == [], "resolved once"

    metrics = {f.name: f for f in text_string_to_metric_families(prom)}
    statuses = {s.labels["check"]: s.value for s in metrics["opscheck_check_status"].samples}
    assert statuses["checks/test_health.py::test_component_reports_healthy[frontend/api/health]"] == 0
    assert statuses["checks/test_health.py::test_component_reports_healthy[api/health]"] == 1
    failed = {s.labels["level"]: s.value for s in metrics["opscheck_run_failed_checks"].samples}
    assert failed["error"] >= 1 and metrics["opscheck_run_timestamp_seconds"].samples[0].value > time.time() - 300


def test_a_root_cause_is_one_incident_and_the_checks_it_blocks_are_none(platform, receiver, tmp_path):
    """Redis stopped: one message per root cause the run names (its blocked checks under it, never told apart),
    one per failure no root cause explains; then as many "resolved"."""
    target, env, _ = notify_target(platform, tmp_path, receiver.url())
    args, reports = ["checks", f"--target={target}", *MORNING], tmp_path / "reports"
    with faulted(platform, "redis-down"):
        down = run_pytest(args, reports, env)
    summary = json.loads((down.run_dir / "summary.json").read_text())
    roots = summary.get("root_causes") or []
    blocked = {nodeid for root in roots for nodeid in root["blocks"]}
    alone = {c["nodeid"] for c in summary["checks"] if c["outcome"] in ("failed", "error")
             and c["nodeid"] not in blocked and c["failed_level"] in ("error", "critical")}  # fmt: skip
    texts = [text for _, _, text in receiver.take()]
    assert len(texts) == len(roots) + len(alone) and all(sum(r["id"] in t for t in texts) == 1 for r in roots)
    assert not any(nodeid in text for nodeid in blocked for text in texts), "a blocked check is not an incident"
    assert run_pytest(args, reports, env).returncode == 0 and len(receiver.take()) == len(texts), "each resolved"


def older(run_dir: Path, minutes: float) -> None:
    """Move a recorded run `minutes` into the past: its folder's time, its summary's, its notification log's."""
    shift = timedelta(minutes=minutes)
    summary = json.loads((run_dir / "summary.json").read_text())
    for key in ("started", "finished"):
        summary[key] = (datetime.fromisoformat(summary[key]) - shift).isoformat()
    stamp, rest = run_dir.name.split("-", 1)
    moved = run_dir.with_name(f"{datetime.strptime(stamp, '%Y%m%dT%H%M%SZ') - shift:%Y%m%dT%H%M%SZ}-{rest}")
    summary["run_id"] = moved.name
    (run_dir / "summary.json").write_text(json.dumps(summary))
    log = json.loads((run_dir / "notifications.json").read_text())
    for told in log["open"]:
        told["since"] = (datetime.fromisoformat(told["since"]) - shift).isoformat()
    (run_dir / "notifications.json").write_text(json.dumps(log))
    run_dir.rename(moved)


def test_an_unresolved_incident_escalates_by_the_clock_of_the_history(platform, receiver, tmp_path):
    """Runs moved into the past stand for the time an incident has lasted: past 30 min it goes to Level 2
    (its own webhook), past a further hour to Level 3 (#emergency, on the shared webhook); never by waiting."""
    level2 = "/hooks/T000-level2-token"
    target, env, _ = notify_target(platform, tmp_path, receiver.url(), receiver.url(level2))
    args, reports = ["checks", f"--target={target}", *MORNING], tmp_path / "reports"
    with faulted(platform, "frontend-down"):
        first = run_pytest(args, reports, env)
        front = incidents(first)[1]
        assert {channel for _, channel, _ in receiver.take()} == {"#ops-level1"}
        older(first.run_dir, 40)
        second = run_pytest(args, reports, env)
        at_2 = receiver.take()
        older(second.run_dir, 60)
        older(next(reports.glob(f"*{first.run_dir.name[16:]}")), 60)
        third = run_pytest(args, reports, env)
        at_3 = receiver.take()
    assert {(path, channel) for path, channel, _ in at_2} == {(level2, "#ops-level2")}
    [health] = [text for _, _, text in at_2 if front in text]
    assert health.startswith("⬆ Escalated to Level 2 (#ops-level2)") and "unresolved for 40 min" in health
    assert "Notified $OPSCHECK_TEST_LEVEL2 (#ops-level2)" in second.output and level2 not in second.output
    assert {(path, channel) for path, channel, _ in at_3} == {(SECRET_PATH, "#emergency")} and len(at_3) == len(at_2)
    assert all("unresolved for 1 h 40 min" in text for _, _, text in at_3)
    assert third.returncode == 1, "notifying never changes the run's result"


def test_a_level_without_a_webhook_is_left_out_and_the_next_level_still_told(platform, receiver, tmp_path):
    """Only Level 2 has a webhook: a new incident is not told (the run says so), once 30 min old it is."""
    level2 = "/hooks/T000-level2-token"
    target, env, _ = notify_target(platform, tmp_path, None, receiver.url(level2))
    args, reports = ["checks", f"--target={target}", *MORNING], tmp_path / "reports"
    with faulted(platform, "frontend-down"):
        first = run_pytest(args, reports, env)
        firing = len(incidents(first)[0])
        assert receiver.take() == [] and f"Not notified: #ops-level1 has no webhook ({firing} firing)." in first.output
        older(first.run_dir, 31)
        run_pytest(args, reports, env)
    told = receiver.take()
    assert {(path, channel) for path, channel, _ in told} == {(level2, "#ops-level2")} and len(told) == firing


@pytest.mark.parametrize("how", ["down", "slow"])
def test_a_webhook_that_is_down_or_slow_never_holds_the_run(platform, tmp_path, how):
    slow = Receiver(delay_s=10)
    if how == "slow":
        threading.Thread(target=slow.serve_forever, daemon=True).start()
    url = slow.url() if how == "slow" else f"http://127.0.0.1:{free_port()}{SECRET_PATH}"
    target, env, _ = notify_target(platform, tmp_path, url)
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
