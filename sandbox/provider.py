"""`--target sandbox`: use the running sandbox (faults and all), or start one for this run and stop it afterwards."""

from __future__ import annotations

from opscheck.errors import TargetError
from opscheck.target.selection import ProvidedTarget
from sandbox import lifecycle
from sandbox.errors import SandboxError
from sandbox.state import Sandbox, default_dir


def provide() -> ProvidedTarget:
    return _provide(fleet=False)


def provide_fleet() -> ProvidedTarget:
    """`--target sandbox-fleet`: the platform spread over hosts of its own, reached over ssh (sandbox.fleet)."""
    return _provide(fleet=True)


def _provide(fleet: bool) -> ProvidedTarget:
    sandbox = Sandbox(default_dir(fleet))
    running = lifecycle.status(sandbox)
    # A part that is down may be a fault under test: only a sandbox with nothing running is started afresh.
    if any(running.values()) and sandbox.target_file.is_file():
        return ProvidedTarget(sandbox.target_file, environ=_check_secrets(sandbox))
    try:
        lifecycle.up(sandbox, fleet=fleet)
    except SandboxError as exc:
        raise TargetError(f"sandbox: {exc}") from None
    return ProvidedTarget(sandbox.target_file, environ=_check_secrets(sandbox), stop=lambda: lifecycle.down(sandbox))


def _check_secrets(sandbox: Sandbox) -> dict[str, str]:
    """Only what the checks' target names; the application's own password stays with the sandbox."""
    return {k: v for k, v in sandbox.secrets().items() if k.startswith("OPSCHECK_")}
