"""`opscheck serve`: run a schedule on a timer and answer a monitoring system (Goss's `serve`).

One run at a time, each `pytest -m SCHEDULE` in a process of its own (as cron would start it, so a
run that hangs or crashes cannot take the server with it); the last run's summary answers `/healthz`
(200 when it passed at --fail-on, 503 otherwise), `/metrics` (the same series as the textfile) and
the reports folder is served read-only under `/reports/`. Built on starlette and uvicorn.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from opscheck.errors import OpscheckError
from opscheck.record import notify

PERIOD = re.compile(r"^(\d+(?:\.\d+)?)([smh])$")
UNITS = {"s": 1, "m": 60, "h": 3600}


def period_s(text: str) -> float:
    """`30s`, `10m`, `2h` → seconds."""
    found = PERIOD.match(text.strip())
    if not found or float(found[1]) <= 0:
        raise OpscheckError(f"--every {text}: give a period such as 30s, 10m or 2h")
    return float(found[1]) * UNITS[found[2]]


class Scheduler:
    """Runs the schedule every `every_s` seconds, one run after the other, and keeps the last summary."""

    def __init__(self, command: list[str], reports: Path, every_s: float, timeout_s: float, cwd: Path) -> None:
        self.command, self.reports, self.every_s, self.timeout_s, self.cwd = command, reports, every_s, timeout_s, cwd
        self.last: dict[str, Any] | None = None
        self.stopping = threading.Event()
        self.running: subprocess.Popen[str] | None = None

    def stop(self) -> None:
        """End the timer and any run in progress (a server that stops leaves no run behind)."""
        self.stopping.set()
        if self.running is not None and self.running.poll() is None:
            self.running.send_signal(signal.SIGINT)  # as Ctrl-C: pytest ends cleanly, a started sandbox stops

    def loop(self) -> None:
        while not self.stopping.is_set():
            started = time.monotonic()
            self.run_once()
            self.stopping.wait(max(0.0, self.every_s - (time.monotonic() - started)))

    def run_once(self) -> None:
        before = set(self.reports.glob("*/summary.json"))
        self.running = subprocess.Popen(self.command, cwd=self.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True)  # fmt: skip
        try:
            _, errors = self.running.communicate(timeout=self.timeout_s)
            problem = errors.strip().splitlines()[-1:] if self.running.returncode not in (0, 1) else []
        except subprocess.TimeoutExpired:
            self.running.kill()
            self.running.communicate()
            problem = [f"the run took longer than {self.timeout_s:g} s and was stopped"]
        code = self.running.returncode
        new = sorted(set(self.reports.glob("*/summary.json")) - before)
        if new:
            self.last = json.loads(new[-1].read_text(encoding="utf-8"))
        else:  # the run could not start (a bad target, a refused option): unhealthy, and why
            self.last = {"exit_status": code, "problem": " ".join(problem) or "the run left no summary"}
        failed = self.last.get("failed_by_level") or {}
        print(f"{time.strftime('%H:%M:%S')} exit {self.last.get('exit_status')}; "
              f"failed: {failed or self.last.get('problem', 'none')}", flush=True)  # fmt: skip


def app(scheduler: Scheduler) -> Starlette:
    def healthz(request: Request) -> Response:
        last = scheduler.last
        if last is None:
            return JSONResponse({"status": "no run has finished yet"}, status_code=503)
        return JSONResponse(last, status_code=200 if last.get("exit_status") == 0 else 503)

    def metrics(request: Request) -> Response:
        last = scheduler.last
        if last is None or "checks" not in last:
            return PlainTextResponse("# no run has finished yet\n", media_type=CONTENT_TYPE_LATEST)
        return PlainTextResponse(notify.textfile(last), media_type=CONTENT_TYPE_LATEST)

    scheduler.reports.mkdir(parents=True, exist_ok=True)
    routes = [Route("/healthz", healthz), Route("/metrics", metrics),
              Mount("/reports", StaticFiles(directory=scheduler.reports, html=True))]  # fmt: skip
    return Starlette(routes=routes)


def serve(target: str, schedule: str, every: str, host: str, port: int, reports: Path, extra: list[str],
          timeout_s: float, repo: Path) -> int:  # fmt: skip
    command = [sys.executable, "-m", "pytest", "checks", "-m", schedule, f"--target={target}",
               f"--reports-dir={reports.resolve()}", "-q", *extra]  # fmt: skip
    scheduler = Scheduler(command, reports.resolve(), period_s(every), timeout_s, repo)
    worker = threading.Thread(target=scheduler.loop, name="opscheck-schedule", daemon=True)
    print(f"opscheck serve: {' '.join(command[3:])} every {every}; http://{host}:{port}/healthz, /metrics, /reports/",
          flush=True)  # fmt: skip
    worker.start()
    try:
        uvicorn.run(app(scheduler), host=host, port=port, log_level="warning")
    finally:
        scheduler.stop()
    return 0
