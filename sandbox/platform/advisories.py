"""The advisory service an air-gapped site mirrors: an OSV-compatible API (what `pip-audit -s osv
--osv-url` asks) and npm's bulk advisory endpoint (what `npm audit --registry` asks), over a small
database of real advisories. The healthy sandbox's pins are all past their fixes; a fault pins one back.
"""

from __future__ import annotations

import gzip
import json

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

ADVISORIES = [  # (ecosystem, package, id, aliases, summary, severity, introduced, fixed)
    ("PyPI", "jinja2", "GHSA-q2x7-8rv6-6q7h", ["CVE-2024-56201"],
     "Jinja has a sandbox breakout through malicious filenames", "MODERATE", "3.0.0", "3.1.5"),
    ("PyPI", "requests", "GHSA-9wx4-h78v-vm56", ["CVE-2024-35195"],
     "Requests `Session` object does not verify requests after making first request with verify=False",
     "MODERATE", "0", "2.32.0"),
    ("PyPI", "urllib3", "GHSA-34jh-p97f-mpxf", ["CVE-2024-37891"],
     "urllib3's Proxy-Authorization request header isn't stripped during cross-origin redirects", "MODERATE",
     "2.0.0", "2.2.2"),
    ("PyPI", "python-multipart", "GHSA-59g5-xgcq-4qw3", ["CVE-2024-53981"],
     "Denial of service (DoS) via deformation `multipart/form-data` boundary", "HIGH", "0", "0.0.18"),
    ("npm", "next", "GHSA-f82v-jwr5-mffw", ["CVE-2025-29927"],
     "Authorization Bypass in Next.js Middleware", "CRITICAL", "13.0.0", "14.2.25"),
    ("npm", "lodash", "GHSA-35jh-r3h4-6jhm", ["CVE-2021-23337"], "Command Injection in lodash", "HIGH", "0",
     "4.17.21"),
    ("npm", "axios", "GHSA-jr5f-v2jv-69x6", ["CVE-2025-27152"],
     "axios Requests Vulnerable To Possible SSRF and Credential Leakage via Absolute URL", "HIGH", "1.0.0",
     "1.8.2"),
]  # fmt: skip
NPM_SEVERITY = {"MODERATE": "moderate", "HIGH": "high", "CRITICAL": "critical", "LOW": "low"}

app = FastAPI(title="advisory mirror", openapi_url=None, docs_url=None, redoc_url=None)


def _version(text: str) -> tuple:
    """Enough of PEP 440 and semver for these packages: numeric parts, compared as numbers."""
    parts = []
    for piece in text.replace("-", ".").split("."):
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _affects(advisory: tuple, version: str) -> bool:
    introduced, fixed = advisory[6], advisory[7]
    return _version(introduced) <= _version(version) < _version(fixed)


def _osv(advisory: tuple) -> dict:
    ecosystem, package, vuln_id, aliases, summary, severity, introduced, fixed = advisory
    return {
        "id": vuln_id, "aliases": aliases, "summary": summary, "details": summary,
        "affected": [{"package": {"ecosystem": ecosystem, "name": package},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": introduced}, {"fixed": fixed}]}]}],
        "database_specific": {"severity": severity},
    }  # fmt: skip


@app.get("/health")
def health() -> dict:
    return {"status": "ok", "advisories": len(ADVISORIES)}


@app.post("/osv/v1/query")
async def osv_query(request: Request) -> dict:
    query = await request.json()
    package, version = query.get("package", {}), query.get("version", "")
    name = package.get("name", "").lower()
    found = [_osv(a) for a in ADVISORIES
             if a[0] == package.get("ecosystem") and a[1] == name and _affects(a, version)]  # fmt: skip
    return {"vulns": found} if found else {}


@app.get("/osv/v1/vulns/{vuln_id}")
def osv_vuln(vuln_id: str) -> JSONResponse:
    for advisory in ADVISORIES:
        if advisory[2] == vuln_id:
            return JSONResponse(_osv(advisory))
    return JSONResponse({"code": 5, "message": "Bug not found."}, 404)


@app.post("/npm/-/npm/v1/security/advisories/bulk")
async def npm_bulk(request: Request) -> dict:
    body = await request.body()
    if request.headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    asked: dict[str, list[str]] = json.loads(body or b"{}")
    answer: dict[str, list[dict]] = {}
    for number, advisory in enumerate(ADVISORIES, start=1000):
        ecosystem, package, vuln_id, _aliases, summary, severity, _introduced, fixed = advisory
        if ecosystem == "npm" and any(_affects(advisory, v) for v in asked.get(package, [])):
            answer.setdefault(package, []).append({
                "id": number, "url": f"https://github.com/advisories/{vuln_id}", "title": summary,
                "severity": NPM_SEVERITY[severity], "vulnerable_versions": f"<{fixed}", "cwe": [], "cvss": {},
            })  # fmt: skip
    return answer
