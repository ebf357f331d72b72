"""S3: a running platform fails the post_stop checks; after `down` they pass; a process left behind fails again."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sandbox import lifecycle
from tests.conftest import run_pytest, started_sandbox

SHUTDOWN = "checks/test_shutdown.py"


@pytest.fixture
def stopping(tmp_path_factory):
    with started_sandbox(tmp_path_factory, "stopping") as sandbox:
        yield sandbox


def test_post_stop_sees_what_is_left(stopping, tmp_path):
    target = tmp_path / "target.toml"
    target.write_text(stopping.target_file.read_text())  # kept: `down` ends the sandbox, not its description
    env = {k: v for k, v in stopping.secrets().items() if k.startswith("OPSCHECK_")}

    def post_stop():
        return run_pytest(["checks", f"--target={target}", "-m", "post_stop"], tmp_path / "reports", env)

    running = post_stop()
    both = {f"{SHUTDOWN}::test_nothing_listens_after_stop[sandbox]": "error",
            f"{SHUTDOWN}::test_no_process_left_after_stop[sandbox]": "error"}  # fmt: skip
    assert running.failed() == both, running.output

    lifecycle.down(stopping)
    stopped = post_stop()
    assert stopped.returncode == 0 and stopped.outcomes() == {"passed": 2}, stopped.output

    straggler = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)",
                                  f"sandbox.platform.serve streaming {stopping.root}"])  # fmt: skip
    try:
        left = post_stop()
    finally:
        straggler.kill()
        straggler.wait()
    assert left.failed() == {f"{SHUTDOWN}::test_no_process_left_after_stop[sandbox]": "error"}, left.output
    assert f"pid {straggler.pid}" in left.output
