"""Target files: a bad one is refused in one line naming the file and key, before any check runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from opscheck.cli import main as opscheck_main
from opscheck.errors import TargetError
from opscheck.target.loader import load_target
from tests.conftest import REPO, run_pytest

MINIMAL = 'name = "t"\n[components.api]\nbase_url = "http://127.0.0.1:9"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('name = "t"\n[http\n', "not valid TOML"),
        ('name = "t"\nthreshold = 3\n', "threshold: unknown key"),
        ('name = "t"\n[thresholds]\ncpu_percnt = 70\n', "thresholds.cpu_percnt: unknown key"),
        ('name = "t"\n[postgres]\nhost = "h"\nuser = "u"\nport = "five"\n', "postgres.port: "),
        ('name = "t"\n[thresholds]\ncpu_percent = 180\n', "thresholds.cpu_percent: "),
        ('name = "t"\n[redis]\nurl = "redis://:hunter2@h:6379/0"\n', "redis.url: "),
        ('name = "t"\n[components.api]\nbase_url = "ftp://u:hunter2@h"\n', "components.api.base_url: "),
        ('name = "t"\n[thresholds]\naccuracy_alarm_percent = 90\n', "must be below accuracy_normal_percent"),
        ("[http]\ntimeout_s = 1\n", "name: required key is missing"),
    ],
)
def test_bad_file_is_refused_with_the_key_named(tmp_path, text, expected):
    with pytest.raises(TargetError) as refused:
        load_target(write(tmp_path, text))
    message = str(refused.value)
    assert message.startswith(str(tmp_path / "t.toml") + ": ") and expected in message
    assert "\n" not in message and "hunter2" not in message


def test_missing_secret_variable_names_the_variable_not_a_value(tmp_path):
    path = write(tmp_path, MINIMAL + '[postgres]\nhost = "h"\nuser = "u"\npassword_env = "OPSCHECK_TEST_PW"\n')
    with pytest.raises(TargetError, match=r"postgres\.password_env: environment variable OPSCHECK_TEST_PW is not set"):
        load_target(path, environ={})
    assert load_target(path, environ={"OPSCHECK_TEST_PW": "x"}).secret("OPSCHECK_TEST_PW") == "x"


def test_relative_paths_are_relative_to_the_file(tmp_path):
    target = load_target(write(tmp_path, MINIMAL + '[backups]\nroot = "b"\n'))
    assert target.spec.backups.root == tmp_path / "b"


def test_example_documents_a_valid_target():
    env = {"OPSCHECK_PG_PASSWORD": "x", "OPSCHECK_REDIS_PASSWORD": "y", "OPSCHECK_DRILL_PASSWORD": "z",
           "SLACK_WEBHOOK_URL": "https://hooks.example/T0",
           "SLACK_WEBHOOK_OPS_LEVEL2": "https://hooks.example/T2"}  # fmt: skip
    target = load_target(REPO / "targets" / "production.example.toml", environ=env)
    assert target.spec.thresholds.response_ms == 500 and target.spec.permissions.allow_load is False
    assert target.spec.maintenance.window == "Sun 02:00" and target.spec.drill.max_rto_minutes == 60
    assert target.spec.notify.channel(3).channel == "#emergency" and target.spec.notify.escalate_after_min[1] == 60


def test_targets_check_command(tmp_path, capsys):
    assert opscheck_main(["targets", "check", str(write(tmp_path, MINIMAL))]) == 0
    assert "valid target 't'" in capsys.readouterr().out
    assert opscheck_main(["targets", "check", str(write(tmp_path, 'name = "t"\nbogus = 1\n'))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bogus: unknown key" in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--target={tmp}/t.toml"], "unknown key"),
        (["--target={tmp}/missing.toml"], "no such target file"),
        (["--target", "{tmp}/t.toml"], "give paths outside it with '=' (--target=PATH, --reports-dir=DIR)"),
        (["--target", "nosuchname"], "no file"),
        ([], "no target chosen: pass --target NAME or PATH, or set OPSCHECK_TARGET (available: "),
        (["--target=nosuchname", "-m", "dayly"], "-m names unknown mark(s) dayly"),
    ],
)
def test_pytest_refuses_before_any_check_runs(tmp_path, args, expected):
    write(tmp_path, 'name = "t"\nbogus = 1\n')
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    run = run_pytest(["-m", "daily", *args], tmp_path / "reports", env={"OPSCHECK_TARGET": ""})
    assert run.returncode == 4, run.output
    assert expected in run.output and "Traceback" not in run.output
    assert run.run_dir is None, "nothing ran, so no run folder"


def test_a_selection_that_matches_no_check_fails_and_says_so(run_checks):
    run = run_checks("-m", "daily and drill")
    assert run.returncode == 5, run.output
    assert "NOTHING WAS CHECKED" in run.output and "'daily and drill': nothing was verified" in run.output
