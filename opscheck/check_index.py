"""Which checks evidence which manual item, read from the marks in checks/ without running or collecting them.

`opscheck items` and `opscheck explain` must answer a new operator who has no target yet, and
collecting needs one; the marks are plain decorators, so reading the source (the standard
`ast`) gives the same answer: each check's items, level, schedules, the target settings its
code reads, and the manual's remedy its message quotes.
"""

from __future__ import annotations

import ast
import typing
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import BaseModel

from opscheck.plugin.levels import SCHEDULES
from opscheck.target.spec import Target


@dataclass(frozen=True)
class CheckInfo:
    nodeid: str
    items: tuple[str, ...]
    level: str
    schedules: tuple[str, ...]
    settings: tuple[str, ...]
    remedy: str


def _marks(decorators: list[ast.expr]) -> list[tuple[str, list[str]]]:
    """`pytest.mark.NAME(args…)` → (NAME, [string args])."""
    out = []
    for node in decorators:
        call = node if isinstance(node, ast.Call) else None
        target = call.func if call else node
        if isinstance(target, ast.Attribute) and ast.unparse(target).startswith("pytest.mark."):
            args = [a.value for a in (call.args if call else []) if isinstance(a, ast.Constant)]
            out.append((target.attr, [str(a) for a in args]))
    return out


def _module_marks(tree: ast.Module) -> list[tuple[str, list[str]]]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets):
            value = node.value
            return _marks(list(value.elts) if isinstance(value, ast.List | ast.Tuple) else [value])
    return []


@cache
def _section_keys() -> dict[str, frozenset[str]]:
    """Each target section's keys, from the schema itself, so a renamed key cannot go stale here."""
    out = {}
    for name, field in Target.model_fields.items():
        for kind in (field.annotation, *typing.get_args(field.annotation)):
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                out[name] = frozenset(kind.model_fields)
    return out


def _settings(function: ast.FunctionDef) -> tuple[str, ...]:
    """`[section] key` for every `….section….key` attribute chain the check's code reads (`thresholds.response_ms`,
    `backups.spec.parts`, `target.spec.security.trusted_clients`)."""
    keys = _section_keys()
    found: list[str] = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Attribute):
            continue
        chain, value = [], node.value
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        if isinstance(value, ast.Name):
            chain.append(value.id)
        for section in chain:
            if node.attr in keys.get(section, ()) and f"[{section}] {node.attr}" not in found:
                found.append(f"[{section}] {node.attr}")
    return tuple(found)


def _remedy(function: ast.FunctionDef) -> str:
    """The manual's words the check's message quotes ("Manual: …"), with its computed parts as `…`."""
    for node in ast.walk(function):
        if isinstance(node, ast.JoinedStr | ast.Constant) and "Manual" in _text(node):
            return _text(node)[_text(node).index("Manual") :].strip()
    return ""


def _text(node: ast.expr) -> str:
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else ""
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(v) if isinstance(v, ast.Constant) else "…" for v in node.values)
    return ""


def checks_in(folder: Path) -> list[CheckInfo]:
    """Every check function in `folder`'s test files, in file order."""
    found = []
    for path in sorted(folder.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        module = _module_marks(tree)
        for node in tree.body:
            if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test")):
                continue
            marks = module + _marks(node.decorator_list)
            items = tuple(i for name, args in marks if name == "checklist" for i in args)
            level = next((args[0] for name, args in marks if name == "level" and args), "")
            schedules = tuple(dict.fromkeys(name for name, _ in marks if name in SCHEDULES))
            nodeid = f"{folder.name}/{path.name}::{node.name}"
            found.append(CheckInfo(nodeid, items, level, schedules, _settings(node), _remedy(node)))
    return found


def by_item(folder: Path) -> dict[str, list[CheckInfo]]:
    out: dict[str, list[CheckInfo]] = {}
    for check in checks_in(folder):
        for item in check.items:
            out.setdefault(item, []).append(check)
    return out
