"""W2 — セキュリティスキャン (headers): what a browser is told by the API and the front end. HSTS on HTTPS,
no MIME sniffing, no framing by other sites, no server version handed to scanners, and no CORS that lets
any site read a logged-in user's answers."""

import re

import pytest

pytestmark = [pytest.mark.security, pytest.mark.weekly]
HSTS_MIN_AGE_S = 15_552_000  # 180 days, as the common hardening guides ask
VERSION = re.compile(r"\d+\.\d+")
FOREIGN_ORIGIN = "https://attacker.example"


def _entry(target, name, http):
    component = target.spec.component(name)
    return http.get(component.base_url + component.entry, part=name, headers={"Origin": FOREIGN_ORIGIN})


@pytest.mark.checklist("W2", "X4")
@pytest.mark.level("warning")
def test_security_headers_are_sent(public_component, target, http):
    answer = _entry(target, public_component, http)
    headers = answer.headers
    missing = []
    if answer.url.startswith("https://"):
        age = re.search(r"max-age=(\d+)", headers.get("strict-transport-security", ""))
        if not age or int(age[1]) < HSTS_MIN_AGE_S:
            missing.append(f"Strict-Transport-Security with max-age ≥ {HSTS_MIN_AGE_S} "
                           f"(got {headers.get('strict-transport-security', 'none')!r})")  # fmt: skip
    if headers.get("x-content-type-options", "").lower() != "nosniff":
        missing.append("X-Content-Type-Options: nosniff")
    framing = headers.get("x-frame-options", "").upper() in ("DENY", "SAMEORIGIN")
    if not framing and "frame-ancestors" not in headers.get("content-security-policy", ""):
        missing.append("X-Frame-Options (DENY or SAMEORIGIN) or a CSP frame-ancestors")
    assert not missing, (
        f"{answer.url} does not send {'; '.join(missing)}. Manual (W2): add_header … always; in nginx's server block"
    )


@pytest.mark.checklist("W2", "X4")
@pytest.mark.level("warning")
def test_server_does_not_tell_its_version(public_component, target, http):
    answer = _entry(target, public_component, http)
    leaks = {name: value for name in ("server", "x-powered-by", "x-aspnet-version")
             if (value := ", ".join(answer.headers.get_list(name))) and VERSION.search(value)}  # fmt: skip
    assert not leaks, (
        f"{answer.url} tells scanners what it runs: "
        + ", ".join(f"{name}: {value}" for name, value in leaks.items())
        + ". Manual (W2): server_tokens off; in nginx, and drop X-Powered-By"
    )


@pytest.mark.checklist("W2", "X4")
@pytest.mark.level("warning")
def test_cors_does_not_trust_any_origin_with_credentials(public_component, target, http):
    answer = _entry(target, public_component, http)
    allowed = answer.headers.get("access-control-allow-origin", "")
    credentials = answer.headers.get("access-control-allow-credentials", "").lower() == "true"
    assert not (credentials and allowed in ("*", FOREIGN_ORIGIN)), (
        f"{answer.url} lets {allowed!r} read its answers with the user's cookies (Access-Control-Allow-Credentials: "
        f"true) when asked from {FOREIGN_ORIGIN}. Manual (W2): allow only the platform's own origins"
    )
