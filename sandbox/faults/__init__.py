"""The fault catalogue: what the sandbox can break on purpose, and which checks must catch it at what level.

The self-tests inject each fault into a healthy sandbox, run the checks, and require
that exactly the checks named in `catches` fail, each at its level, and nothing else.
`heal` undoes every active fault and restarts whatever is not running.

Each subject's faults, and the mechanics only they use, are in a module of their own (its `FAULTS`);
what several subjects share is in `base`.
"""

from __future__ import annotations

from pathlib import Path

from sandbox import cgroup, lifecycle, postgres
from sandbox.active import active, remember
from sandbox.errors import SandboxError
from sandbox.faults import (
    backups,
    behaviour,
    cache,
    database,
    history,
    logs,
    processes,
    resources,
    schedules,
    security,
    tls,
)
from sandbox.faults.base import Fault
from sandbox.faults.logs import _remember_log_sizes, _truncate_logs
from sandbox.state import Sandbox, State, is_ours

__all__ = ["CATALOGUE", "Fault", "heal", "inject"]

SUBJECTS = (processes, behaviour, database, backups, schedules, cache, logs, resources, history, security, tls)

# The order `opscheck sandbox faults` lists the faults in, and the self-tests run them in.
ORDER = (
    "api-down", "frontend-down", "platform-down", "ml-degraded", "streaming-stopped", "monitoring-down",
    "redis-down", "pg-down", "pg-connections-exhausted", "backup-stale", "backup-incomplete", "backup-empty-dump",
    "pg-connections-nearly-all", "error-flood",  # levels by how far past the limit (T5, D3)
    "backup-corrupt", "backup-archive-cut", "backup-shrunk", "backup-truncated", "backup-index-drift",
    "backup-old-tool", "backup-offsite-differs", "offsite-object-missing", "offsite-set-stale", "backup-unreadable",
    "backup-unscheduled", "batch-failed", "batch-late", "batch-zero-rows", "batch-stopped", "duplicate-rows",
    "impossible-price", "negative-price", "stale-symbol", "price-gap", "price-jump", "symbol-vanished",
    "accuracy-62", "accuracy-55", "ml-model-stale", "slow-predictions", "pg-max-connections-lowered",
    "redis-memory-full", "redis-evicting", "cache-key-without-ttl", "error-burst", "critical-log-line", "5xx-burst",
    "slow-day",
    "traffic-spike", "access-log-missing", "disk-nearly-full", "cpu-hog", "memory-hog", "io-saturated",
    "cpu-busy-afternoon", "memory-climbing", "disk-full-for-hours", "network-saturated", "monitoring-gap",
    "restore-lost-days", "index-invalid", "index-invalid-elsewhere", "autovacuum-off-bloat", "rows-past-retention",
    "purge-too-eager", "slow-statement", "slow-statement-twice", "pg-idle-in-transaction", "xid-wraparound-near",
    "cache-starved",
    "monitor-role-writes", "monitor-in-owner-role", "drill-role-createrole", "redis-monitor-may-flush",
    "config-not-restored", "cache-not-filled", "plan-missing", "logrotate-misses-logs", "log-unrotated-huge",
    "dr-review-overdue", "slow-week", "erroring-week", "short-access-history", "sla-availability-missed",
    "sla-availability-collapsed", "sla-latency-missed", "health-checks-failing", "history-short",
    "database-outgrowing", "security-update-pending", "apt-lists-stale", "prices-erroring", "load-throughput-cap",
    "brute-force-burst", "breach-after-burst", "account-sprayed", "scanner-sweep", "404-storm", "request-flood",
    "cert-renewal-due", "cert-expiring", "cert-expired", "cert-wrong-name", "tls10-enabled", "weak-ciphers",
    "hsts-missing", "server-banner", "cors-open", "renewal-unattested", "symbol-crash", "schema-drift",
    "admin-open", "vulnerable-python-pin", "vulnerable-npm-pin", "advisories-unreachable", "deploy-plan-unreviewed",
)  # fmt: skip


def _catalogue() -> dict[str, Fault]:
    """Every subject's faults by name, in ORDER: a fault missing from it, or named twice, is a mistake."""
    by_name: dict[str, Fault] = {}
    for subject in SUBJECTS:
        for fault in subject.FAULTS:
            if fault.name in by_name:
                raise SandboxError(f"two faults named {fault.name!r}: in {subject.__name__} and before it")
            by_name[fault.name] = fault
    if unlisted := set(by_name) - set(ORDER):
        raise SandboxError(f"{', '.join(sorted(unlisted))}: not in ORDER (sandbox/faults/__init__.py), add each there")
    if len(set(ORDER)) != len(ORDER) or set(ORDER) - set(by_name):
        raise SandboxError("sandbox.faults.ORDER names a fault twice, or one no subject module has")
    return {name: by_name[name] for name in ORDER}


CATALOGUE: dict[str, Fault] = _catalogue()


def _running_state(sandbox: Sandbox) -> State:
    state = sandbox.read_state()
    if state is None:
        raise SandboxError(f"no sandbox is running in {sandbox.root}: run `opscheck sandbox up` first")
    return state


def inject(sandbox: Sandbox, name: str) -> Fault:
    fault = CATALOGUE.get(name)
    if fault is None:
        raise SandboxError(f"no fault named {name!r}: `opscheck sandbox faults` lists them")
    with sandbox.lock():
        state = _running_state(sandbox)
        _remember_log_sizes(sandbox)
        remember(sandbox, name)
        fault.inject(sandbox, state)
    return fault


def heal(sandbox: Sandbox) -> list[str]:
    """Undo every active fault, restart what is down, and wait until the platform is healthy again."""
    with sandbox.lock():
        state = _running_state(sandbox)
        injected = list(active(sandbox))
        with cgroup.unthrottled(state.cgroup):
            database_was_down = not postgres.is_running(Path(state.pg_dir))
            _restart_what_is_down(sandbox, state)
            for name in injected:
                CATALOGUE[name].heal(sandbox, state)
            if database_was_down:
                _restart_api(sandbox, state)
            sandbox.faults_file.unlink(missing_ok=True)
            lifecycle.wait_until_ready(sandbox, state)
        # Last, once healthy again: what the fault (and the recovery from it) wrote to the logs goes, so
        # the next fault's run does not judge this one's errors (D3, D8 look back hours).
        _truncate_logs(sandbox)
    return injected


def _restart_what_is_down(sandbox: Sandbox, state: State) -> None:
    marker = str(sandbox.root)
    pg_dir = Path(state.pg_dir)
    if not postgres.is_running(pg_dir):
        postgres.start(pg_dir)
    if not is_ours(state.pids["redis"], marker):
        state.pids["redis"] = lifecycle.start_redis(sandbox, state.ports["redis"])
    for name in lifecycle.SERVICES:
        if not is_ours(state.pids[name], marker):
            state.pids[name] = lifecycle.start_service(sandbox, name)
    sandbox.write_state(state)


def _restart_api(sandbox: Sandbox, state: State) -> None:
    """As an operator restarts the API after its database: its pool waits longer between reconnects the longer the
    database was away (1, 2, 4, 8 s …), so after an outage a daily run long it would stay unhealthy up to 8 s
    more; restarted, it connects at once. After the faults' own heals: a TLS heal's reload signal must not reach
    an API still starting."""
    lifecycle.restart_service(sandbox, state, "api")
    sandbox.write_state(state)


def proofs() -> list[dict[str, object]]:
    """The catalogue as `opscheck explain` shows it (entry point `opscheck.faults`: opscheck never imports the
    sandbox): each fault's name, what it breaks, the items that catch it, and its one line."""
    return [{"name": f.name, "breaks": f.breaks, "items": list(f.items), "line": f.line()} for f in CATALOGUE.values()]
