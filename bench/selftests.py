"""The self-tests' wall time, as CI and the README's second command run them (`pytest tests -n 2`)."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from bench.daily import PYTEST
from bench.goals import Goal, at_most

REPO = Path(__file__).resolve().parent.parent


def selftests() -> dict[str, str | Goal]:
    started = time.perf_counter()
    done = subprocess.run([str(PYTEST), "tests", "-n", "2", "-q"], cwd=REPO, capture_output=True, text=True,
                          timeout=90 * 60)  # fmt: skip
    minutes = (time.perf_counter() - started) / 60
    tail = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-300:]
    counted = re.sub(r"=+", "", tail).strip()
    return {
        "pytest tests -n 2": counted,
        "exit status": str(done.returncode),
        "wall time": at_most(minutes, 10, " min"),
    }
