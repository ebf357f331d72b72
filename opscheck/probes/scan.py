"""X4 / W2: schemathesis against the running API's OpenAPI document, in a process of its own (hypothesis
and schemathesis stay out of the pytest process), bounded in methods, examples and time.

Findings come from its JUnit report: per operation, each failure with schemathesis's own
explanation and the curl command that reproduces it.

Each run starts from nothing found (examples kept in memory, never carried to the next run), but hypothesis's own
tables (its Unicode character map: 1.3 s to build, half the scan of a small API) are kept between runs in the
user's cache folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from opscheck.errors import TargetError
from opscheck.identity import SCAN_AGENT
from opscheck.target.loader import LoadedTarget

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CHECKS = "not_a_server_error,response_schema_conformance"
SERVER_ERROR = re.compile(r"^- (ST\d+ )?Server error", re.MULTILINE)


@dataclass(frozen=True)
class Finding:
    operation: str  # "GET /api/stock_prices/{symbol}"
    server_error: bool  # a 5xx (not_a_server_error); otherwise the answer broke its documented schema
    detail: str  # schemathesis's explanation, the response, and "Reproduce with: curl …"

    def summary(self) -> str:
        curl = re.search(r"curl .+", self.detail)
        first = next((line.strip() for line in self.detail.splitlines() if line.strip().startswith("- ")), "")
        return f"{self.operation}: {first.lstrip('- ')}" + (f" — reproduce: {curl[0]}" if curl else "")


@dataclass(frozen=True)
class ScanResult:
    findings: list[Finding]
    operations: int
    report: Path
    errors: list[str]  # operations schemathesis could not test (a connection or TLS failure, say)

    def server_errors(self) -> list[Finding]:
        return [f for f in self.findings if f.server_error]

    def schema_violations(self) -> list[Finding]:
        return [f for f in self.findings if not f.server_error]


def run(target: LoadedTarget, folder: Path, run_id: str) -> ScanResult:
    spec = target.spec.security
    api = target.spec.component("api")
    if api is None:
        raise TargetError("the target names no API to scan ([components.api])")
    unsafe = set(spec.scan_methods) - SAFE_METHODS
    if unsafe and not target.spec.permissions.allow_scan_writes:
        raise TargetError(
            f"[security] scan_methods asks for {', '.join(sorted(unsafe))}, which write: set [permissions] "
            "allow_scan_writes = true where the API may be written to (never production)"
        )
    report = folder / "schemathesis"
    shutil.rmtree(report, ignore_errors=True)
    report.mkdir(parents=True)
    command = [sys.executable, "-m", "schemathesis.cli", "run", api.base_url + spec.openapi, "--checks", CHECKS,
               "--phases", "examples,coverage,fuzzing", "-n", str(spec.scan_examples),
               "--request-timeout", str(target.spec.http.timeout_s), "-H", f"User-Agent: {SCAN_AGENT}{run_id}",
               "--report", "junit", "--report-dir", str(report), "--no-color",
               "--generation-database", ":memory:"]  # fmt: skip
    for method in spec.scan_methods:
        command += ["--include-method", method]
    if target.spec.http.ca_bundle:
        command += ["--tls-verify", str(target.spec.http.ca_bundle)]
    try:
        # In the report folder: schemathesis keeps its cache (.schemathesis/) where it runs, never in the repository.
        tables = {"HYPOTHESIS_STORAGE_DIRECTORY": str(_hypothesis_tables(report))}
        done = subprocess.run(command, capture_output=True, text=True, timeout=spec.scan_timeout_s, cwd=report,
                              env={**os.environ, **tables})  # fmt: skip
    except subprocess.TimeoutExpired:
        raise TargetError(f"the API scan did not finish within {spec.scan_timeout_s:g} s ([security] "
                          "scan_timeout_s); fewer scan_examples, or a slower API than expected") from None  # fmt: skip
    (report / "output.txt").write_text(done.stdout + done.stderr, encoding="utf-8")
    junit = sorted(report.glob("junit*.xml"))
    result = _parse(junit[-1]) if junit else None
    if result is None or result.operations == 0 or result.errors:
        # Nothing tested is not nothing found: say why (the schema unreachable, a TLS failure, …).
        chrome = ("Schemathesis v", "━", "Tip:", "Reports:", "  - ")
        said = [line.strip(" ❌") for line in (done.stdout + done.stderr).splitlines()
                if line.strip() and not line.startswith(chrome)]  # fmt: skip
        errors = result.errors[:1] if result else []
        reason = " / ".join(errors or said[:4]) or f"schemathesis exited {done.returncode}"
        raise TargetError(f"the API scan could not test the API: {reason} (all of it in {report / 'output.txt'})")
    return result


def _hypothesis_tables(report: Path) -> Path:
    """Where hypothesis keeps what it builds once (its Unicode tables): the user's cache folder, else the report's."""
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "opscheck" / "hypothesis"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return report / ".hypothesis"
    return folder


def _parse(junit: Path) -> ScanResult:
    root = ET.parse(junit).getroot()
    findings, errors, operations = [], [], 0
    for case in root.iter("testcase"):
        operations += 1
        for failure in case.findall("failure"):
            text = failure.text or failure.get("message", "")
            for part in re.split(r"\n(?=\d+\. Test Case ID)", text):
                findings.append(Finding(case.get("name", "?"), bool(SERVER_ERROR.search(part)), part.strip()))
        for error in case.findall("error"):
            errors.append(f"{case.get('name', '?')}: {(error.get('message') or error.text or '').strip()[:160]}")
    return ScanResult(findings, operations, junit.parent, errors)
