"""Load runs: locust headless in processes of its own (gevent never patches the pytest process), one
local process or a master and N workers (locust's distributed mode, the same as across machines).

The caps and the permission are checked before anything is started; the result comes from the
JSON the locustfile writes from the runner's final statistics.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opscheck.errors import TargetError
from opscheck.target.loader import LoadedTarget

REPOSITORY = Path(__file__).resolve().parents[2]
LOCUSTFILE = REPOSITORY / "load" / "locustfile.py"
PROFILES = REPOSITORY / "load" / "profiles.toml"
START_MARGIN_S = 60  # start-up, workers joining, the stop timeout and the result being written
METRICS = {"p95_ms": "p95", "p99_ms": "p99", "error_percent": "error ratio", "min_rps": "throughput"}


@dataclass(frozen=True)
class Profile:
    name: str
    users: int
    spawn_rate: float
    duration_s: int


@dataclass(frozen=True)
class Threshold:
    """One limit of one endpoint ("overall" for all requests together): one check."""

    endpoint: str
    metric: str  # a LoadThresholds field
    limit: float

    @property
    def id(self) -> str:
        return f"{self.endpoint}-{self.metric}"

    def passes(self, value: float) -> bool:
        return value >= self.limit if self.metric == "min_rps" else value <= self.limit


def thresholds(target: LoadedTarget) -> list[Threshold]:
    spec = target.spec.load
    found = [("overall", spec.thresholds), *spec.endpoints.items()]
    return [Threshold(endpoint, metric, limit) for endpoint, limits in found
            for metric, limit in limits.model_dump().items() if limit is not None]  # fmt: skip


def profile(target: LoadedTarget, name: str | None) -> Profile:
    """The named profile (or the target's default), refused when it is over the target's caps."""
    spec = target.spec.load
    path = spec.profiles_file or PROFILES
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TargetError(f"load profiles {path}: {exc}") from None
    name = name or spec.default_profile
    if name not in profiles:
        raise TargetError(f"no load profile {name!r} in {path} (there: {', '.join(profiles)})")
    chosen = Profile(name, **profiles[name])
    if chosen.users > spec.max_users or chosen.duration_s > spec.max_duration_s:
        raise TargetError(
            f"load profile {name!r} asks {chosen.users} users for {chosen.duration_s} s; target "
            f"{target.spec.name!r} caps load at {spec.max_users} users and {spec.max_duration_s} s "
            "([load] max_users, max_duration_s)"
        )
    return chosen


def refusal(target: LoadedTarget) -> str | None:
    """Why no load may be put on this target, or None when it allows it."""
    if target.spec.permissions.allow_load:
        return None
    return (
        f"target {target.spec.name!r} does not allow load ([permissions] allow_load = false): a load run puts real "
        "traffic on it. Set allow_load = true in its target file where that is safe; no request was sent"
    )


def host(target: LoadedTarget) -> str:
    api = target.spec.component("api")
    chosen = target.spec.load.host or (api.base_url if api else None)
    if not chosen:
        raise TargetError("the target names no API to load: set [load] host or [components.api] base_url")
    return chosen


@dataclass(frozen=True)
class LoadResult:
    profile: Profile
    workers: int
    figures: dict[str, Any]  # the locustfile's JSON: total, endpoints, errors, stopped_early
    folder: Path

    def of(self, endpoint: str) -> dict[str, Any] | None:
        return self.figures["total"] if endpoint == "overall" else self.figures["endpoints"].get(endpoint)


def run(
    target: LoadedTarget, chosen: Profile, workers: int, folder: Path, run_id: str, traffic: dict | None = None
) -> LoadResult:
    """Run `chosen` against the target with `workers` locust workers (0: one local process); wait for it.

    `traffic` overrides the locustfile's traffic model (weights, think_s): the benchmark uses it.
    """
    spec = target.spec.load
    result_file = folder / "locust-result.json"
    result_file.unlink(missing_ok=True)
    config = {
        "symbols": spec.symbols, "think_s": list(spec.think_s), "login_user": spec.login_user,
        "ca_bundle": str(target.spec.http.ca_bundle or ""), "stop_error_percent": spec.stop_error_percent,
        "result": str(result_file), "run_id": run_id, **(traffic or {}),
    }  # fmt: skip
    env = {**os.environ, "OPSCHECK_LOAD": json.dumps(config),
           "OPSCHECK_LOAD_PASSWORD": target.secret(spec.login_password_env) or ""}  # fmt: skip
    locust = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    master = [*locust, "--headless", "-u", str(chosen.users), "-r", str(chosen.spawn_rate),
              "-t", f"{chosen.duration_s}s", "--host", host(target), "--csv", str(folder / "locust"),
              "--html", str(folder / "locust.html"), "--only-summary", "--stop-timeout", "5",
              "--exit-code-on-error", "0"]  # fmt: skip
    helpers: list[subprocess.Popen] = []
    log = (folder / "locust.log").open("w", encoding="utf-8")
    try:
        if workers:
            port = _free_port()
            master += ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                       "--expect-workers", str(workers), "--expect-workers-max-wait", "30"]  # fmt: skip
            worker = [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
            helpers = [subprocess.Popen(worker, env=env, stdout=log, stderr=subprocess.STDOUT) for _ in range(workers)]
        done = subprocess.run(master, env=env, stdout=log, stderr=subprocess.STDOUT,
                              timeout=chosen.duration_s + START_MARGIN_S)  # fmt: skip
    except subprocess.TimeoutExpired:
        limit = chosen.duration_s + START_MARGIN_S
        raise TargetError(f"locust did not finish within {limit} s; see {log.name}") from None
    finally:
        for helper in helpers:
            try:
                helper.wait(timeout=15)
            except subprocess.TimeoutExpired:
                helper.kill()
        log.close()
    if not result_file.exists():
        tail = (folder / "locust.log").read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        raise TargetError(f"locust exited {done.returncode} without a result: {' / '.join(tail)}")
    return LoadResult(chosen, workers, json.loads(result_file.read_text(encoding="utf-8")), folder)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
