"""What every subject's faults are made of: the `Fault` record, the levels, the checks several subjects break,
and the mechanics more than one subject uses (files set aside, services stopped, fault processes ended)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.active import stop_fault_processes
from sandbox.state import Sandbox, State, stop_process

DECLARED = "declared"  # the check fails at its own declared level
ERROR, CRITICAL, WARNING = "error", "critical", "warning"

# The checks the faults of more than one subject fail.
HEALTH = "checks/test_health.py::test_component_reports_healthy"
BACKUPS = "checks/test_backups.py"
PG = "checks/test_postgres.py"
BATCH = "checks/test_batch.py"
CACHE = "checks/test_cache.py"
PERF = "checks/test_performance.py"
D11 = "checks/test_resources.py::test_resources_over_the_day"
RESTORE = "checks/test_restore.py"
SECURITY_LOGS = "checks/test_security_logs.py"
HARDENING = "checks/test_http_hardening.py"
API_SCAN = "checks/test_api_scan.py"


@dataclass(frozen=True)
class Fault:
    name: str
    breaks: str
    items: tuple[str, ...]
    catches: dict[str, str]
    inject: Callable[[Sandbox, State], None]
    heal: Callable[[Sandbox, State], None] = field(default=lambda sandbox, state: None)
    # What runs of other selections must fail on this fault: {"drill": {node id: level}, "post_restore": …}.
    also: dict[str, dict[str, str]] = field(default_factory=dict)
    # The sandbox's shapes (sandbox.shape) the fault can be made in, and where a shape changes what must
    # catch it, that shape's own `catches` and `also` ({"manual": {"daily": {…}, "drill": {…}}}).
    shapes: tuple[str, ...] = ("default", "manual")
    on: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    # On the fleet (sandbox.fleet), the host whose per-host checks it fails (T1's, B1's): `[sandbox]` becomes it.
    host: str = "app"
    # The part(s) it stops (opscheck.target.topology.PARTS): each is named once as a root cause, and every check
    # it catches is blocked by one of them but those `independent` (patterns) of it.
    roots: tuple[str, ...] = ()
    independent: tuple[str, ...] = ()

    def line(self) -> str:
        caught = [level for catches in (self.catches, *self.also.values()) for level in catches.values()]
        levels = sorted(set(caught), key=["warning", "error", "critical", DECLARED].index)
        return f"{self.name:28} {self.breaks}; caught by {' '.join(self.items)} at {'/'.join(levels)}"

    def wanted(self, selection: str = "daily", shape: str = "default") -> dict[str, str]:
        """What a run of `selection` must fail (pattern → level) on this fault, in the sandbox's `shape`."""
        own = self.on.get(shape, {})
        if selection in own:
            return own[selection]
        found = self.catches if selection == "daily" else self.also.get(selection, {})
        return {self._on_fleet(k): v for k, v in found.items()} if shape == "fleet" else found

    def blocked(self, expected: dict[str, str]) -> set[str]:
        """Of the checks this fault fails (`expected`), those its root causes must block."""
        if not self.roots:
            return set()
        independent = [re.sub(r"([\[\]])", r"[\1]", p) for p in self.independent]
        return {n for n in expected if not any(fnmatch.fnmatchcase(n, p) for p in independent)}

    def _on_fleet(self, pattern: str) -> str:
        """A node id of the one-host sandbox as the fleet's: its host parameter is the fault's host there."""
        if pattern == "checks/test_processes.py::*":
            return f"checks/test_processes.py::*[{self.host}]"
        return pattern.replace("[sandbox]", f"[{self.host}]").replace("[sandbox-", f"[{self.host}-")

    def selections(self, shape: str = "default") -> list[str]:
        """The selections other than daily whose runs must fail on this fault, in `shape`."""
        return sorted(({*self.also} | {*self.on.get(shape, {})}) - {"daily"})

    def expected_failures(
        self,
        declared: dict[str, str],
        selection: str = "daily",
        shape: str = "default",
        skipped: frozenset = frozenset(),
    ) -> dict[str, str]:
        """node id → level, for the collected checks (`declared`: node id → declared level) this fault must fail.

        A key may be a glob: every collected check it matches must fail, but those the target declares absent
        (`skipped`); DECLARED means at the check's own level. `selection` names the mark the run selected:
        `daily` (what `catches` is about), or one of `also`; `shape`, the sandbox's shape.
        """
        expected: dict[str, str] = {}
        for pattern, level in self.wanted(selection, shape).items():
            literal_brackets = re.sub(r"([\[\]])", r"[\1]", pattern)  # node ids' [..] are never character classes
            globbed = any(c in pattern for c in "*?")
            matches = (
                [n for n in fnmatch.filter(declared, literal_brackets) if n not in skipped] if globbed else [pattern]
            )
            if not matches:
                raise AssertionError(f"{self.name}: {pattern} matches no collected check")
            for nodeid in matches:
                expected[nodeid] = declared.get(nodeid, "?") if level == DECLARED else level
        return expected


def _stop(*names: str) -> Callable[[Sandbox, State], None]:
    def inject(sandbox: Sandbox, state: State) -> None:
        for name in names:
            stop_process(state.pids[name], str(sandbox.root))

    return inject


def _stop_fault_process(sandbox: Sandbox, state: State) -> None:
    """Heal of every fault that runs a process of its own (recorded as its pid in faults.json)."""
    stop_fault_processes(sandbox)


# --- files set aside ---------------------------------------------------------------------------


def _set_aside(name: str, pick: Callable[[Sandbox], list[Path]]) -> Callable[[Sandbox, State], None]:
    """Move what `pick` names out of the platform's sight (a job that never ran, a file that went missing)."""

    def inject(sandbox: Sandbox, state: State) -> None:
        aside = sandbox.root / "faults" / name
        aside.mkdir(parents=True, exist_ok=True)
        for path in pick(sandbox):
            path.rename(aside / path.name)

    return inject


def _put_back(name: str, home: Callable[[Sandbox], Path]) -> Callable[[Sandbox, State], None]:
    def heal(sandbox: Sandbox, state: State) -> None:
        aside = sandbox.root / "faults" / name
        if aside.is_dir():
            for path in aside.iterdir():
                if (home(sandbox) / path.name).is_file():
                    (home(sandbox) / path.name).unlink()  # what was written while it was away
                path.rename(home(sandbox) / path.name)
            aside.rmdir()

    return heal
