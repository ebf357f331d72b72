"""After the run: tell the manual's escalation levels of each incident (new, escalated, resolved), and write
the Prometheus textfile, so on-call, dashboards and alerting see the suite without reading a folder."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from opscheck.plugin.reports import run_dir
from opscheck.plugin.target import loaded_target
from opscheck.record import escalation, notify, suite_history
from opscheck.target.loader import LoadedTarget


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    """Runs once summary.json is written (at session finish); says in one line what was sent, or not."""
    target, folder = loaded_target(config), run_dir(config)
    if target is None or folder is None or not (folder / "summary.json").exists():
        return
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    spec = target.spec.notify
    if spec.textfile is not None:
        try:
            notify.write_textfile(spec.textfile, notify.textfile(summary))
        except OSError as exc:
            terminalreporter.write_line(f"opscheck: could not write the textfile {spec.textfile}: {exc.strerror}")
    if spec.webhook_envs():
        for line in escalate(target, folder, summary):
            terminalreporter.write_line(line)


def escalate(target: LoadedTarget, folder: Path, summary: dict[str, Any]) -> list[str]:
    """Send this run's escalation events, leave the notification log in its folder; one line per webhook."""
    spec = target.spec.notify
    history, log = _history(folder, summary, spec.history_hours)
    events = escalation.plan(history, log, spec)
    now = escalation.finished(summary)
    delivered: list[bool] = []
    given_up: dict[str, str] = {}  # webhook variable → why it failed
    told: dict[str, list[str]] = {}  # "$VARIABLE (#channel)" or "#channel" → kinds of message
    for event in events:
        channel = spec.channel(event.step)
        env = channel.webhook_url_env or spec.webhook_url_env
        url = target.secret(env)
        if env is None or url is None:  # a level left without a webhook is not told, on purpose
            delivered.append(True)
            told.setdefault(channel.channel, []).append(event.kind)
            continue
        if env in given_up:  # one that failed this run is not tried again: a dead webhook costs one timeout
            delivered.append(False)
            continue
        body = {"text": escalation.text(event, summary["target"], spec, now, folder / "report.html"),
                "channel": channel.channel}  # fmt: skip
        problem = notify.send_webhook(url, body, spec.timeout_s)
        delivered.append(problem is None)
        if problem is None:
            told.setdefault(f"${env} ({channel.channel})", []).append(event.kind)
        else:
            given_up[env] = problem
    lines = []
    for where, kinds in told.items():
        counts = ", ".join(f"{kinds.count(k)} {k}" for k in ("firing", "resolved") if k in kinds)
        lines.append(f"Notified {where}: {counts}." if where.startswith("$") else
                     f"Not notified: {where} has no webhook ({counts}).")  # fmt: skip
    for env, problem in given_up.items():
        lines.append(f"opscheck: could not notify the webhook (${env}): {problem}. The run's result stands; "
                     "tell on-call another way (the next run tells it again)")  # fmt: skip
    (folder / escalation.LOG).write_text(
        escalation.log_json(escalation.next_log(log, events, delivered), events, delivered), encoding="utf-8"
    )
    return lines


def _history(folder: Path, summary: dict[str, Any], hours: float) -> tuple[list[dict[str, Any]], escalation.Log]:
    """This target's runs of the last `hours` in the run's reports folder, oldest first and ending with this run,
    and the notification log of the latest earlier run that left one."""
    since = escalation.finished(summary) - timedelta(hours=hours)
    earlier = []
    for other in folder.parent.glob(f"*-{summary['target']}-*"):
        stamp = other.name.split("-", 1)[0]
        try:
            if other == folder or datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=since.tzinfo) < since:
                continue
        except ValueError:
            continue
        earlier.append(other)
    runs = [run for run in suite_history.runs_in(earlier) if run.get("target") == summary["target"]
            and run.get("finished") and escalation.finished(run) < escalation.finished(summary)]  # fmt: skip
    logs = [escalation.read_log(folder.parent / run["run_id"]) for run in runs if run.get("run_id")]
    log = next((log for log in reversed(logs) if log is not None), {})
    return [*runs, summary], log
