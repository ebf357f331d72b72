"""Which target a run is against: `--target NAME|PATH`, else $OPSCHECK_TARGET, else a refusal.

A NAME is `targets/NAME.toml`, or a *provider*: a plugin (entry point group
`opscheck.providers`) that makes a target exist, such as the bundled sandbox that is
started for the run. Never a silent default: a run against the wrong deployment is
worse than no run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

from opscheck.errors import TargetError

ENV_VAR = "OPSCHECK_TARGET"
PROVIDER_GROUP = "opscheck.providers"


@dataclass
class ProvidedTarget:
    """What a provider hands back: the target file, the secrets it holds, and how to stop what it started."""

    path: Path
    environ: dict[str, str] = field(default_factory=dict)
    stop: Callable[[], None] | None = None


def available_targets(targets_dir: Path) -> list[str]:
    names = {p.stem for p in targets_dir.glob("*.toml") if not p.name.endswith(".example.toml")}
    names.update(ep.name for ep in entry_points(group=PROVIDER_GROUP))
    return sorted(names)


def choose_target(option: str | None, targets_dir: Path) -> ProvidedTarget:
    """Resolve the operator's choice to a target file, starting a provided target if need be."""
    choice = option or os.environ.get(ENV_VAR)
    if not choice:
        names = ", ".join(available_targets(targets_dir)) or "none yet"
        raise TargetError(f"no target chosen: pass --target NAME or PATH, or set {ENV_VAR} (available: {names})")
    looks_like_path = choice.endswith(".toml") or os.sep in choice
    if looks_like_path:
        path = Path(choice).expanduser()
        if not path.is_file():
            raise TargetError(f"--target {choice}: no such target file")
        return ProvidedTarget(path.resolve())
    named = targets_dir / f"{choice}.toml"
    if named.is_file():
        return ProvidedTarget(named.resolve())
    for ep in entry_points(group=PROVIDER_GROUP, name=choice):
        provide = ep.load()
        return provide()
    names = ", ".join(available_targets(targets_dir)) or "none yet"
    raise TargetError(f"--target {choice}: no file {named} and no provider of that name (available: {names})")
