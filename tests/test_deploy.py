"""deploy/: the cron file, the systemd units and the CI examples are valid and run commands that exist."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from opscheck.plugin.levels import SCHEDULES
from tests.conftest import REPO

DEPLOY = REPO / "deploy"
CRON_FIELDS = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]  # minute hour day-of-month month day-of-week


def cron_field_ok(field: str, low: int, high: int) -> bool:
    for part in field.split(","):
        match = re.fullmatch(r"(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?", part)
        if match is None:
            return False
        start, end = match[2], match[3] or match[2]
        if start is not None and not (low <= int(start) <= int(end) <= high):
            return False
    return True


def installed(path: str) -> Path:
    """A checkout-relative path as set-up made it here: .venv/… is the environment running these tests."""
    return Path(sys.prefix) / path.removeprefix(".venv/") if path.startswith(".venv/") else REPO / path


def selected_marks(command: str) -> list[str]:
    """The -m expressions of a command line (pytest's), as words."""
    words = shlex.split(command)
    return [w for i, w in enumerate(words[1:], 1) if words[i - 1] == "-m" for w in re.findall(r"[a-z_]+", w)
            if w not in ("and", "or", "not")]  # fmt: skip


def test_cron_file_is_valid_and_names_real_commands():
    jobs = 0
    for line in (DEPLOY / "cron" / "opscheck").read_text().splitlines():
        if not line.strip() or line.startswith("#") or re.fullmatch(r"[A-Z_]+=\S+", line):
            continue
        fields = line.split(None, 6)
        assert len(fields) == 7, f"not schedule, user and command: {line!r}"
        for value, (low, high) in zip(fields[:5], CRON_FIELDS, strict=True):
            assert cron_field_ok(value, low, high), f"bad field {value!r} in {line!r}"
        command = fields[6].split("&&", 1)[1].strip()
        executable = command.split()[0]
        assert installed(executable).exists(), f"{executable} is not in a set-up checkout: {line!r}"
        assert set(selected_marks(command)) <= set(SCHEDULES), f"unknown schedule in {line!r}"
        jobs += 1
    assert jobs == 6, "morning, intraday, evening, weekly, monthly, and the audit prune"


def units(tmp_path: Path) -> list[Path]:
    """The units as they would be installed, with this checkout for /opt/opscheck and one instance per timer."""
    service = (DEPLOY / "systemd" / "opscheck@.service").read_text()
    service = service.replace("/opt/opscheck/.venv", sys.prefix).replace("/opt/opscheck", str(REPO))
    service = service.replace("User=opscheck", "User=root")  # verify wants the user to exist here
    made = []
    for timer in sorted((DEPLOY / "systemd").glob("*.timer")):
        instance = re.search(r"^Unit=(opscheck@(\w+)\.service)$", timer.read_text(), re.M)
        assert instance and instance[2] in SCHEDULES, f"{timer.name} starts no known schedule"
        (tmp_path / instance[1]).write_text(service)
        shutil.copy(timer, tmp_path / timer.name)
        made += [tmp_path / instance[1], tmp_path / timer.name]
    return made


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_systemd_units_verify(tmp_path):
    made = units(tmp_path)
    assert len(made) == 10
    result = subprocess.run(["systemd-analyze", "verify", *map(str, made)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    for timer in (p for p in made if p.suffix == ".timer"):
        when = re.search(r"^OnCalendar=(.+)$", timer.read_text(), re.M)[1]  # type: ignore[index]
        calendar = subprocess.run(["systemd-analyze", "calendar", when], capture_output=True, text=True)
        assert calendar.returncode == 0, f"{timer.name}: {calendar.stderr}"


@pytest.mark.parametrize("name", ["gitlab-ci.yml", "github-actions.yml"])
def test_ci_examples_run_the_post_deploy_gate_and_keep_the_record(name):
    text = (DEPLOY / "ci" / name).read_text()
    yaml.safe_load(text)
    commands = re.findall(r"(?:- |run: )(\.venv/bin/pytest .+|bash scripts/setup)", text)
    assert "bash scripts/setup" in commands and (REPO / "scripts" / "setup").exists()
    gate = [c for c in commands if c.startswith(".venv/bin/pytest")]
    assert gate and selected_marks(gate[0]) == ["post_deploy"], "the deploy pipeline's gate is post_deploy"
    assert "reports/" in text, "the run record is kept as the job's artifacts"
