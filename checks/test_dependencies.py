"""X5 — 依存関係の監査 (`pip-audit`, `npm audit`), W3 — 依存関係の脆弱性 (Monday), MM1 (monthly dependency
updates): every pinned dependency against the advisories, each finding at a level from its severity
(critical CRITICAL, high ERROR, moderate and below WARNING). No answer from the advisory service is a
failure that says it could not tell, never a pass."""

import pytest

from opscheck.judge.levels import Level, fail_at, of_severity
from opscheck.probes.dependencies import AuditUnavailable, fetched, npm_audit, pip_audit

pytestmark = [pytest.mark.security, pytest.mark.weekly, pytest.mark.monthly]


@pytest.mark.checklist("X5", "W3", "MM1")
@pytest.mark.level("warning")
def test_no_dependency_has_a_known_vulnerability(dependency_manifest, target, fleet, measured):
    """The manifests are read on the host that holds them ([dependencies] on); the audit runs here."""
    tool, path = dependency_manifest
    spec = target.spec.dependencies
    try:
        with fetched(fleet.files_on(spec.on)[0][1], path, tool) as manifest:
            if tool == "pip":
                found = pip_audit(manifest, spec.osv_url, spec.timeout_s)
            else:
                found = npm_audit(manifest, spec.npm_registry, spec.timeout_s)
    except AuditUnavailable as exc:
        fail_at(Level.ERROR, f"could not tell whether {path} has known vulnerabilities: {exc}. Manual: check that "
                "this machine reaches the advisory service ([dependencies] osv_url, npm_registry)")  # fmt: skip
    measured("vulnerabilities", len(found))
    if not found:
        return
    worst = max(of_severity(v.severity) for v in found)
    listed = "; ".join(str(v) for v in sorted(found, key=lambda v: -of_severity(v.severity))[:6])
    when = "now" if worst >= Level.ERROR else "this week"
    fail_at(worst, f"{len(found)} known vulnerabilit{'y' if len(found) == 1 else 'ies'} in {path}: {listed}. "
            f"Manual (X5): upgrade to the fixed versions {when}")  # fmt: skip
