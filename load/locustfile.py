"""The Miraikakaku platform's real traffic, for locust: what users ask for, how often, with what pauses.

Run by opscheck in a process of its own (gevent must never patch the pytest process). Configured by
the environment opscheck sets: OPSCHECK_LOAD (JSON: symbols, weights, think time, CA bundle, where to
write the result, when to stop early) and OPSCHECK_LOAD_PASSWORD (the load-test account's password).
The master (or the single local process) writes the result as JSON when the run ends; opscheck
decides pass or fail from that file, never from the CSV (rewritten once a second, short at exit).
"""

from __future__ import annotations

import json
import os
import random
import ssl
import time
from typing import ClassVar

import gevent
from locust import FastHttpUser, between, events, task
from locust.runners import MasterRunner, WorkerRunner

from opscheck.identity import LOAD_AGENT

CONFIG = json.loads(os.environ.get("OPSCHECK_LOAD", "{}"))
WEIGHTS = CONFIG.get("weights", {"prediction": 10, "prices": 6, "health": 2, "login": 1})
THINK = CONFIG.get("think_s", [0.5, 1.5])
PASSWORD = os.environ.get("OPSCHECK_LOAD_PASSWORD", "")
MIN_REQUESTS_TO_STOP = 100  # a handful of failures at the start is not a failing system


def _ssl_context() -> ssl.SSLContext:
    """Verify the target's certificate against its own CA bundle, as a browser would (no `insecure`)."""
    import gevent.ssl

    return gevent.ssl.create_default_context(cafile=CONFIG.get("ca_bundle") or None)


class PlatformUser(FastHttpUser):
    """One person using the service: predictions mostly, price history, now and then a login."""

    wait_time = between(*THINK)
    insecure = False
    ssl_context_factory = staticmethod(_ssl_context)
    # opscheck's traffic figures (D7, D8, D10, W1) leave requests with this agent out: they are not users.
    default_headers: ClassVar[dict[str, str]] = {"User-Agent": f"{LOAD_AGENT}{CONFIG.get('run_id', 'manual')}"}

    def symbol(self) -> str:
        return random.choice(CONFIG.get("symbols") or ["AAPL"])

    @task(WEIGHTS.get("prediction", 0))
    def prediction(self) -> None:
        self.client.get(f"/api/predictions/{self.symbol()}", name="/api/predictions/{symbol}")

    @task(WEIGHTS.get("prices", 0))
    def prices(self) -> None:
        self.client.get(f"/api/stock_prices/{self.symbol()}?days=30", name="/api/stock_prices/{symbol}")

    @task(WEIGHTS.get("health", 0))
    def health(self) -> None:
        self.client.get("/api/health", name="/api/health")

    @task(WEIGHTS.get("liveness", 0))
    def liveness(self) -> None:
        """The cheapest request there is (no database, no cache): what the benchmark loads the rig with."""
        self.client.get("/health", name="/health")

    @task(WEIGHTS.get("login", 0) if CONFIG.get("login_user") else 0)
    def login(self) -> None:
        self.client.post("/api/auth/login", json={"username": CONFIG["login_user"], "password": PASSWORD},
                         name="/api/auth/login")  # fmt: skip


def _figures(entry) -> dict:
    elapsed = max((entry.last_request_timestamp or entry.start_time) - entry.start_time, 1e-9)
    return {
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "error_percent": round(100 * entry.fail_ratio, 3),
        "p50_ms": entry.get_response_time_percentile(0.50) if entry.num_requests else None,
        "p95_ms": entry.get_response_time_percentile(0.95) if entry.num_requests else None,
        "p99_ms": entry.get_response_time_percentile(0.99) if entry.num_requests else None,
        "rps": round(entry.num_requests / elapsed, 2),
    }


STOPPED_EARLY: list[str] = []
WORKERS_SEEN: list[int] = [0]  # the master's workers once every user was spawned (they are gone at quitting)


@events.init.add_listener
def _stop_a_failing_run(environment, **_kwargs) -> None:
    """Locust's own stop condition: a run whose error ratio passes the limit stops instead of hammering."""
    if isinstance(environment.runner, WorkerRunner):
        return
    if isinstance(environment.runner, MasterRunner):
        environment.events.spawning_complete.add_listener(
            lambda **_: WORKERS_SEEN.append(environment.runner.worker_count)
        )
    limit = CONFIG.get("stop_error_percent")
    if not limit:
        return

    def watch() -> None:
        while True:
            gevent.sleep(1)
            total = environment.runner.stats.total
            if total.num_requests >= MIN_REQUESTS_TO_STOP and 100 * total.fail_ratio > limit:
                STOPPED_EARLY.append(f"error ratio {100 * total.fail_ratio:.0f} % after {total.num_requests} requests")
                environment.runner.quit()
                return

    gevent.spawn(watch)


@events.quitting.add_listener
def _write_result(environment, **_kwargs) -> None:
    """The final figures, from the runner's own statistics (the master's are the workers' summed)."""
    path = CONFIG.get("result")
    if isinstance(environment.runner, WorkerRunner) or not path:
        return
    stats = environment.runner.stats
    result = {
        "finished": time.time(),
        "workers": max(WORKERS_SEEN) if isinstance(environment.runner, MasterRunner) else 0,
        "stopped_early": STOPPED_EARLY[0] if STOPPED_EARLY else None,
        "total": _figures(stats.total),
        "endpoints": {name: _figures(entry) for (name, _method), entry in stats.entries.items()},
        "errors": [
            {"endpoint": e.name, "error": str(e.error)[:200], "count": e.occurrences}
            for e in list(stats.errors.values())[:20]
        ],
    }
    with open(path, "w", encoding="utf-8") as out:
        json.dump(result, out, indent=2)
    environment.process_exit_code = 0  # opscheck decides from the thresholds, not from "any failure"
