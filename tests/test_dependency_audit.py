"""The audit tools' JSON, as they really print it (recorded from pip-audit 2.10.1 and npm 11.19.1 against the
sandbox's advisory mirror with a vulnerable pin each), parsed into findings; their failures into 'could not tell'."""

from __future__ import annotations

from pathlib import Path

import pytest

from opscheck.judge.levels import Level, of_severity
from opscheck.probes.dependencies import AuditUnavailable, parse_npm_audit, parse_pip_audit

DATA = Path(__file__).parent / "data"


def test_pip_audit_json_gives_each_vulnerable_pin():
    found = parse_pip_audit((DATA / "pip-audit-2.10.1.json").read_text())
    assert [(name, version, vuln["id"], vuln["fix_versions"]) for name, version, vuln in found] == [
        ("python-multipart", "0.0.17", "CVE-2024-53981", ["0.0.18"])
    ]


def test_npm_audit_json_gives_each_advisory_with_its_severity_and_fix():
    [finding] = parse_npm_audit((DATA / "npm-audit-11.json").read_text())
    assert (finding.package, finding.id, finding.severity, finding.fix) == (
        "next", "GHSA-f82v-jwr5-mffw", "critical", "14.2.25")  # fmt: skip
    assert of_severity(finding.severity) is Level.CRITICAL


@pytest.mark.parametrize(
    "output",
    ['{"message": "request to http://mirror/-/npm/v1/security/advisories/bulk failed", "error": {"summary": ""}}',
     "npm error code ENOLOCK", ""],
)  # fmt: skip
def test_npm_audit_that_could_not_ask_is_unavailable_not_clean(output):
    with pytest.raises(AuditUnavailable):
        parse_npm_audit(output)


def test_pip_audit_without_a_report_is_unavailable_not_clean():
    with pytest.raises(AuditUnavailable):
        parse_pip_audit("Traceback (most recent call last):\n  requests.exceptions.ConnectionError: …")
