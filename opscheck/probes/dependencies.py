"""X5 / W3 — 依存関係の脆弱性: `pip-audit` and `npm audit` on the manifests the target names, against the
advisory services it names (public ones, or an air-gapped site's mirrors), their JSON parsed into one
shape. A service that cannot be reached is AuditUnavailable: "could not tell", never a clean bill.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from opscheck.probes.files import Files, LocalFiles


class AuditUnavailable(RuntimeError):
    """The audit could not be made: the tool is missing, the advisory service unreachable, the manifest unreadable."""


@dataclass(frozen=True)
class Vulnerability:
    package: str
    version: str
    id: str
    title: str
    severity: str  # critical, high, moderate, low, or unknown
    fix: str | None

    def __str__(self) -> str:
        fix = f", fixed in {self.fix}" if self.fix else ", no fix yet"
        return f"{self.package} {self.version}: {self.id} ({self.severity}) {self.title}{fix}"


def parse_pip_audit(output: str) -> list[tuple[str, str, dict]]:
    """(package, version, vuln) for each finding in `pip-audit -f json` output."""
    try:
        report = json.loads(output)
        return [(d["name"], d.get("version", "?"), v) for d in report["dependencies"] for v in d.get("vulns", [])]
    except (ValueError, KeyError, TypeError):
        raise AuditUnavailable(f"pip-audit gave no report: {_tail(output)}") from None


def parse_npm_audit(output: str) -> list[Vulnerability]:
    """Each advisory in `npm audit --json` output (auditReportVersion 2), once per package and advisory."""
    try:
        report = json.loads(output)
    except ValueError:
        raise AuditUnavailable(f"npm audit gave no report: {_tail(output)}") from None
    if "error" in report or "vulnerabilities" not in report:
        raise AuditUnavailable(f"npm audit: {report.get('message') or report.get('error') or 'no report'}")
    found = []
    for name, entry in report["vulnerabilities"].items():
        for via in entry.get("via", []):
            if isinstance(via, dict):  # a string names another vulnerable package that pulls this one in
                advisory = via.get("url", "").rsplit("/", 1)[-1] or str(via.get("source"))
                fix = entry.get("fixAvailable")
                vulnerable = via.get("range", "?")
                fixed = fix.get("version") if isinstance(fix, dict) else None
                if fixed is None and vulnerable.startswith("<") and " " not in vulnerable:
                    fixed = vulnerable.lstrip("<=")  # "<14.2.25": the first release past it carries the fix
                found.append(Vulnerability(name, vulnerable, advisory, via.get("title", ""),
                                           via.get("severity", "unknown"), fixed))  # fmt: skip
    return found


def pip_audit(requirements: Path, osv_url: str, timeout_s: float) -> list[Vulnerability]:
    """`pip-audit -r FILE --no-deps -s osv --osv-url …/v1/query`; severities from the same OSV service."""
    command = [sys.executable, "-m", "pip_audit", "-r", str(requirements), "--no-deps", "--disable-pip",
               "-s", "osv", "--osv-url", f"{osv_url}/v1/query", "-f", "json", "--progress-spinner", "off",
               "--timeout", str(int(timeout_s))]  # fmt: skip
    done = _run(command, requirements.parent, timeout_s)
    if not done.stdout.strip():
        if "ConnectionError" in done.stderr or "Timeout" in done.stderr:
            raise AuditUnavailable(
                f"the OSV service {osv_url} cannot be reached (pip-audit: {_tail(done.stderr)[:80]}…)"
            )
        raise AuditUnavailable(f"pip-audit could not audit {requirements}: {_tail(done.stderr)}")
    findings = parse_pip_audit(done.stdout)
    with httpx.Client(timeout=timeout_s) as client:
        return [Vulnerability(name, version, vuln["id"], vuln.get("description", "")[:120],
                              _osv_severity(client, osv_url, [vuln["id"], *vuln.get("aliases", [])]),
                              (vuln.get("fix_versions") or [None])[0])
                for name, version, vuln in findings]  # fmt: skip


def npm_audit(project: Path, registry: str, timeout_s: float) -> list[Vulnerability]:
    """`npm audit --json --package-lock-only` in the project folder, asking `registry`'s advisory endpoint."""
    if shutil.which("npm") is None:
        raise AuditUnavailable("npm not found: install Node.js and npm (apt-get install npm) to audit the front end")
    registry = registry if registry.endswith("/") else registry + "/"
    command = ["npm", "audit", "--json", "--package-lock-only", "--registry", registry, "--fetch-retries", "0"]
    found = parse_npm_audit(_run(command, project, timeout_s).stdout)
    try:  # npm's report names the vulnerable range; the lockfile says what is installed
        installed = json.loads((project / "package-lock.json").read_text(encoding="utf-8")).get("packages", {})
    except (OSError, ValueError):
        installed = {}
    return [replace(v, version=installed.get(f"node_modules/{v.package}", {}).get("version", v.version)) for v in found]


def _run(command: list[str], cwd: Path, timeout_s: float) -> subprocess.CompletedProcess:
    if not cwd.is_dir():
        raise AuditUnavailable(f"{cwd} does not exist")
    try:
        return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout_s * 3)
    except subprocess.TimeoutExpired:
        raise AuditUnavailable(f"{command[0]} did not finish within {timeout_s * 3:g} s") from None
    except FileNotFoundError:
        raise AuditUnavailable(f"{command[0]} not found") from None


def _osv_severity(client: httpx.Client, osv_url: str, ids: list[str]) -> str:
    """The advisory's severity as its OSV record gives it (GitHub's rating), trying each of its names."""
    for vuln_id in ids:
        try:
            answer = client.get(f"{osv_url}/v1/vulns/{vuln_id}")
        except httpx.HTTPError as exc:
            raise AuditUnavailable(f"the OSV service {osv_url} cannot be reached: {type(exc).__name__}") from None
        if answer.status_code == 200:
            rating = (answer.json().get("database_specific") or {}).get("severity")
            if rating:
                return str(rating).lower().replace("medium", "moderate")
    return "unknown"


def _tail(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "nothing"


NPM_FILES = ("package.json", "package-lock.json")


@contextlib.contextmanager
def fetched(files: Files, path: Path, tool: str) -> Iterator[Path]:
    """The manifest (pip: the requirements file; npm: the project's package.json and lockfile) where the audit
    runs: itself on this machine, a copy of its few kilobytes from a remote host (removed afterwards)."""
    if isinstance(files, LocalFiles):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="opscheck-manifest-") as folder:
        names = [path.name] if tool == "pip" else [f"{path}/{n}" for n in NPM_FILES]
        for name in names:
            source = str(path) if tool == "pip" else name
            if files.stat(source) is None:
                raise AuditUnavailable(f"no {source} on {files.where}")
            (Path(folder) / Path(source).name).write_text(files.read_text(source), encoding="utf-8")
        yield Path(folder) / path.name if tool == "pip" else Path(folder)
