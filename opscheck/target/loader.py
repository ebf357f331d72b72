"""Target files: one TOML file describes one deployment; a bad file is refused before any check runs.

Secrets never live in the file: it names the environment variables that hold them."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import ValidationError

from opscheck.errors import TargetError
from opscheck.target.base import Section
from opscheck.target.spec import Target


class LoadedTarget:
    """A validated target, where it came from, and its secrets (kept out of every repr)."""

    def __init__(self, spec: Target, path: Path, secrets: dict[str, str]) -> None:
        self.spec = spec
        self.path = path
        self._secrets = secrets

    def secret(self, env: str | None) -> str | None:
        return self._secrets.get(env) if env else None

    def secret_values(self) -> list[str]:
        return [value for value in self._secrets.values() if value]

    def __repr__(self) -> str:
        return f"<target {self.spec.name} from {self.path}>"


def load_target(path: Path, environ: dict[str, str] | None = None) -> LoadedTarget:
    """Read, validate and resolve a target file, or raise TargetError with one line naming the key."""
    environ = dict(os.environ) if environ is None else environ
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TargetError(f"{path}: no such target file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(f"{path}: cannot read the target file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TargetError(f"{path}: not valid TOML: {exc}") from None
    try:
        spec = Target.model_validate(raw)
    except ValidationError as exc:
        raise TargetError(f"{path}: {describe_validation_error(exc)}") from None
    spec = _resolve_paths(spec, path.parent)
    secrets: dict[str, str] = {}
    for key, env in spec.secret_envs():
        value = environ.get(env)
        if not value:
            raise TargetError(
                f"{path}: {key}: environment variable {env} is not set; export it with the secret's value"
            )
        secrets[env] = value
    return LoadedTarget(spec, path, secrets)


def describe_validation_error(exc: ValidationError) -> str:
    """The first problem as `key.path: message`, and how many more there are."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        message = "unknown key (see targets/production.example.toml for every key)"
    elif first["type"] == "missing":
        message = "required key is missing"
    else:
        message = first["msg"].removeprefix("Value error, ")
        given = first.get("input")
        # Echo what was given, except a string that may carry credentials (a URL's user:password@).
        if given is not None and not isinstance(given, dict | list) and "@" not in str(given):
            message += f" (got {given!r})"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    if not first["loc"] and first["type"] == "value_error":  # a check of the whole file names its own key
        return f"{message}{more}"
    return f"{key}: {message}{more}"


def _resolve_paths(spec: Target, base: Path) -> Target:
    """Relative paths in a target file are relative to the file, not to wherever pytest was started."""

    def fix(section: Section) -> Section:
        updates: dict[str, object] = {}
        for name, value in section:
            if isinstance(value, Path) and not value.is_absolute():
                updates[name] = (base / value).resolve()
            elif isinstance(value, Section):
                updated = fix(value)
                if updated is not value:
                    updates[name] = updated
        return section.model_copy(update=updates) if updates else section

    return fix(spec)  # type: ignore[return-value]
