"""After the run: notify the on-call webhook when the worst failure reaches the target's level, and
write the Prometheus textfile, so dashboards and alerting see the suite without reading a folder."""

from __future__ import annotations

import json

import pytest

from opscheck.plugin.reports import run_dir
from opscheck.plugin.target import loaded_target
from opscheck.record import notify


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
    url = target.secret(spec.webhook_url_env)
    worst = notify.worst_level(summary)
    if url is None or worst is None or notify.LEVELS.index(worst) < notify.LEVELS.index(spec.level):
        return
    problem = notify.send_webhook(url, notify.message(summary, folder), spec.timeout_s)
    if problem is None:
        terminalreporter.write_line(f"Notified the webhook (${spec.webhook_url_env}) of this run's {worst.upper()}.")
    else:
        terminalreporter.write_line(
            f"opscheck: could not notify the webhook (${spec.webhook_url_env}): {problem}. The run's result stands; "
            "tell on-call another way"
        )
