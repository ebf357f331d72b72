"""X4 — 稼働中 API の脆弱性スキャン, W2 — セキュリティスキャン (API misuse): schemathesis sends what the
OpenAPI document allows and what it does not (safe methods only, unless the target allows more); no input
may make the API fail with a 5xx, every documented answer must match its schema, and the endpoints the
target marks as protected must refuse anonymous callers. Reproductions (curl) are in the report."""

import pytest

from opscheck.errors import ProbeError, TargetError
from opscheck.judge.health import health_problems
from opscheck.plugin.reports import artifacts_folder
from opscheck.probes import scan

pytestmark = [pytest.mark.security, pytest.mark.weekly]


def _api_unwell(target, http) -> str:
    """What the API's own health says is down (a dependency, or itself): empty when it is healthy."""
    api = target.spec.component("api")
    found = []
    for url in api.health_urls() if api else []:
        try:
            problems = health_problems(http.get(url, part="API server"))
        except ProbeError as exc:
            problems = [exc.what]
        found += [f"{url} {problem}" for problem in problems]
    return "; ".join(found)


@pytest.fixture(scope="module")
def scanned(target, request, http) -> scan.ScanResult:
    """The scan's findings; none judged while the API's own health is failing: a 5xx then is the outage's, not an
    input's, and calling it an attack surface would send the engineer the wrong way."""
    unwell = _api_unwell(target, http)
    if unwell:
        pytest.fail(f"could not judge the API's attack surface: its health is failing ({unwell}). Manual: bring "
                    "back what it names (D1's checks say which part), then scan again", pytrace=False)  # fmt: skip
    try:
        folder = artifacts_folder(request.config)  # the run folder's, on an xdist worker too
        return scan.run(target, folder, folder.parent.name)
    except TargetError as exc:
        pytest.fail(str(exc), pytrace=False)


def _operations(findings: list[scan.Finding]) -> str:
    return ", ".join(sorted({f.operation for f in findings}))


def _listed(findings: list[scan.Finding]) -> str:
    return "\n".join(f"  {f.summary()}" for f in findings[:5]) + (
        f"\n  … and {len(findings) - 5} more" if len(findings) > 5 else ""
    )


@pytest.mark.checklist("X4", "W2")
@pytest.mark.level("error")
def test_no_input_makes_the_api_fail(scanned, measured):
    measured("operations", scanned.operations)
    failing = scanned.server_errors()
    assert not failing, (
        f"{len(failing)} input(s) make the API answer 5xx, on {_operations(failing)}: a crash an attacker can "
        f"repeat. Each request is in {scanned.report}:\n{_listed(failing)}\nManual: fix the handler; meanwhile "
        "read api.log for each request's traceback"
    )


@pytest.mark.checklist("X4", "W2")
@pytest.mark.level("warning")
def test_answers_match_the_api_schema(scanned):
    broken = scanned.schema_violations()
    assert not broken, (
        f"{len(broken)} answer(s) break the API's own OpenAPI document, on {_operations(broken)}: clients built "
        f"from it will mis-read them. Each request is in {scanned.report}:\n{_listed(broken)}\nManual: make the "
        "answers and the OpenAPI document agree again (a deploy changed one)"
    )


@pytest.mark.checklist("X4", "W2")
@pytest.mark.level("error")
def test_protected_endpoints_refuse_anonymous_callers(target, http):
    paths = target.spec.security.protected
    api = target.spec.component("api")
    if not paths or api is None:
        pytest.skip("the target marks no API endpoint as protected ([security] protected)")
    open_ = {path: answer.status for path in paths if (answer := http.get(api.base_url + path, part="api")).status
             not in (401, 403)}  # fmt: skip
    assert not open_, (
        "protected endpoints answer anonymous callers: "
        + ", ".join(f"{path} → {status}" for path, status in open_.items())
        + ". Anyone can call them. Manual: restore the authentication check now"
    )
