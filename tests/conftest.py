"""Self-test fixtures: one real sandbox per test session (per xdist worker), and a way to run the checks on it."""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox import faults, lifecycle
from sandbox.state import Sandbox
from tests.prestarted import Prestarted

REPO = Path(__file__).resolve().parent.parent

# Each self-test starts `pytest checks …` as an operator would, and an operator's Python caches bytecode. A machine
# that sets PYTHONDONTWRITEBYTECODE (this one does) makes every such run re-rewrite and recompile the suite and its
# plugin (~200 modules, about a second a run, over several hundred runs).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


@dataclass
class CheckRun:
    """One `pytest checks …` run as an operator would start it: its exit status, output and summary.json."""

    returncode: int
    output: str
    run_dir: Path | None

    @property
    def summary(self) -> dict:
        assert self.run_dir is not None, f"the run left no run folder:\n{self.output}"
        return json.loads((self.run_dir / "summary.json").read_text())

    def failed(self) -> dict[str, str]:
        """node id → the level it failed at, for every check that failed or errored."""
        return {c["nodeid"]: c["failed_level"] for c in self.summary["checks"] if c["outcome"] in ("failed", "error")}

    def outcomes(self) -> dict[str, int]:
        return self.summary["totals"]


def run_pytest(args: list[str], reports: Path, env: dict[str, str] | None = None, timeout: float = 120) -> CheckRun:
    before = {p for p in reports.iterdir() if p.is_dir()} if reports.exists() else set()
    result = _prestarted().run(
        [*args, "--reports-dir", str(reports), "-p", "no:randomly"], {**os.environ, **(env or {})}, timeout
    )
    new = sorted({p for p in reports.iterdir() if p.is_dir()} - before) if reports.exists() else []
    return CheckRun(result.returncode, result.output, new[-1] if new else None)


@functools.cache
def _prestarted() -> Prestarted:
    """This process's warm pytest (tests.prestarted), started at its first run and ended with the process."""
    warm = Prestarted(REPO)
    atexit.register(warm.close)
    return warm


@contextlib.contextmanager
def faulted(platform: Sandbox, name: str) -> Iterator[faults.Fault]:
    """The sandbox with one fault injected for the block, healed after it whatever happens."""
    with faulted_together(platform, [name]) as [fault]:
        yield fault


@contextlib.contextmanager
def faulted_together(platform: Sandbox, names: list[str]) -> Iterator[list[faults.Fault]]:
    """The sandbox with these faults injected at once for the block, all healed after it whatever happens."""
    try:
        yield [faults.inject(platform, name) for name in names]
    finally:
        faults.heal(platform)


@contextlib.contextmanager
def started_sandbox(
    tmp_path_factory: pytest.TempPathFactory, name: str, shape: str = "default", fleet: bool = False
) -> Iterator[Sandbox]:
    """A fresh sandbox in a folder of its own, laid out as `shape` (`fleet`: over hosts), ended after the block."""
    sandbox = Sandbox(tmp_path_factory.mktemp(name))
    lifecycle.up(sandbox, shape=shape, fleet=fleet)
    try:
        yield sandbox
    finally:
        lifecycle.down(sandbox)


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A healthy sandbox for this session; tests that break it heal it before they end."""
    with started_sandbox(tmp_path_factory, "sandbox") as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def manual_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The sandbox built literally from the manual (sandbox.shape: its backup scripts, tables, plans, logs)."""
    with started_sandbox(tmp_path_factory, "manual", shape="manual") as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def fleet_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The platform spread over hosts of its own, reached over ssh (sandbox.fleet)."""
    with started_sandbox(tmp_path_factory, "fleet", fleet=True) as sandbox:
        yield sandbox


def with_brief_profile(target_text: str, folder: Path, name: str) -> str:
    """The target with a load profiles file of its own (a site's `profiles_file`) holding `name`, 8 s long: where
    what is proven is which profile runs, or that every request is counted, not 20 s of the smoke run."""
    default = 'default_profile = "smoke"'
    assert default in target_text, "the sandbox target's [load] no longer names its default profile"
    profiles = folder / "profiles.toml"
    profiles.write_text(f"[{name}]\nusers = 10\nspawn_rate = 10\nduration_s = 8\n")
    return target_text.replace(default, f'{default}\nprofiles_file = "{profiles}"')


def checks_runner(platform: Sandbox, reports: Path):
    """Run checks against `platform` through its target file, exactly as against production."""
    env = {k: v for k, v in platform.secrets().items() if k.startswith("OPSCHECK_")}

    def run(*args: str, only: list[str] | None = None) -> CheckRun:
        """`only`: these node ids alone (a heal is proven on what the fault broke; the next fault's exact-set
        assertion finds anything else left broken)."""
        return run_pytest([*(only or ["checks"]), "--target", str(platform.target_file), *args], reports, env)

    return run


@pytest.fixture
def run_checks(platform: Sandbox, tmp_path: Path):
    return checks_runner(platform, tmp_path / "reports")


@pytest.fixture
def run_manual_checks(manual_platform: Sandbox, tmp_path: Path):
    return checks_runner(manual_platform, tmp_path / "reports")


@pytest.fixture
def run_fleet_checks(fleet_platform: Sandbox, tmp_path: Path):
    return checks_runner(fleet_platform, tmp_path / "reports")
