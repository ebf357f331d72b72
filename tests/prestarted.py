"""`pytest checks …` started from an interpreter that has already imported what every such run imports.

The self-tests start a few hundred runs of the checks, and each would spend about a second importing pytest, its
plugins and the clients (psycopg, httpx, redis, paramiko, boto3) before it collects a check. One process per xdist
worker makes those imports once, then forks for each run: the child is that run, in a fresh pytest session with the
run's own arguments, folder and environment, reading nothing of the parent but its imported modules.

opscheck's library (its target model, probes, judgements, records) is imported ahead too: pytest never rewrites it.
Its plugin (opscheck.plugin.*, which pytest rewrites as it loads it, and warns if it cannot) and the checks are not:
pytest imports and rewrites them in each run as it would. polars is kept out on purpose: its thread pool does not
survive a fork (opscheck imports it only when a long log is read).
"""

from __future__ import annotations

import atexit
import json
import os
import pkgutil
import select
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

# What a checks run imports before its first check, that no run changes: imported once here, shared by every fork.
# Never a pytest plugin's distribution (pytest11): pytest rewrites those as it loads them, and warns if it cannot.
AHEAD = ("pytest", "_pytest.python", "_pytest.junitxml", "pygal", "psycopg", "httpx", "redis", "pydantic",
         "paramiko", "boto3", "starlette")  # fmt: skip
# opscheck's library, which pytest never rewrites: not its plugin (opscheck.plugin, rewritten as pytest loads it) nor
# its command-line tools, which import the plugin or what no run needs.
LIBRARY = ("opscheck.errors", "opscheck.identity", "opscheck.digests", "opscheck.catalogue", "opscheck.target",
           "opscheck.judge", "opscheck.probes", "opscheck.record")  # fmt: skip


@dataclass
class Finished:
    returncode: int
    output: str


class Prestarted:
    """The forking process of this xdist worker: `run()` is `subprocess.run([python, -m, pytest, …])`, warm."""

    def __init__(self, cwd: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.prestarted"], cwd=cwd, env=env, bufsize=0,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        self._cwd = cwd

    def run(self, args: list[str], env: dict[str, str], timeout: float) -> Finished:
        """Run pytest with `args` in a child of the warm process; its output (stdout and stderr, as one) and exit
        status. Past `timeout` the child's process group is killed and `subprocess.TimeoutExpired` raised."""
        assert self._process.stdin is not None and self._process.stdout is not None
        with tempfile.NamedTemporaryFile("r", prefix="prestarted-", suffix=".out") as output:
            request = {"args": args, "env": env, "cwd": str(self._cwd), "output": output.name}
            # Unbuffered both ways: a line read never takes the next one with it, so select() sees it.
            self._process.stdin.write(json.dumps(request).encode() + b"\n")
            child = int(self._process.stdout.readline())
            ended, _, _ = select.select([self._process.stdout], [], [], timeout)
            if not ended:
                os.killpg(child, signal.SIGKILL)
                self._process.stdout.readline()
                raise subprocess.TimeoutExpired(["pytest", *args], timeout)
            reply = self._process.stdout.readline()
            if not reply:
                raise RuntimeError("the prestarted pytest process ended unexpectedly")
            return Finished(int(reply), output.read())

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=10)


def _serve() -> None:
    """The warm process: import AHEAD and the LIBRARY once, then for each request line fork a child that is that
    pytest run."""
    for name in AHEAD:
        __import__(name)
    import pytest

    for name in LIBRARY:
        _import_all(name)
    assert "polars" not in sys.modules, "a module imported ahead imports polars: its threads would not survive a fork"
    assert "opscheck.plugin" not in sys.modules, "a module imported ahead imports the plugin, which pytest rewrites"

    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        child = os.fork()
        if child == 0:
            os.setsid()
            _become_run(request, pytest)
        print(child, flush=True)
        _, status = os.waitpid(child, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)


def _import_all(name: str) -> None:
    """The module `name`, and if it is a package every module under it."""
    module = __import__(name, fromlist=["_"])
    for found in pkgutil.iter_modules(getattr(module, "__path__", []), f"{name}."):
        _import_all(found.name)


def _become_run(request: dict, pytest: ModuleType) -> None:
    """In the child: the run's folder, environment and output, then pytest's own console entry; never returns."""
    code = 3
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        out = os.open(request["output"], os.O_WRONLY | os.O_TRUNC)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = [sys.executable, *request["args"]]
        code = int(pytest.main(request["args"]))
    except SystemExit as ended:
        code = ended.code if isinstance(ended.code, int) else 1
    except BaseException:  # the run's traceback goes to its output, as `python -m pytest`'s would
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    _serve()
