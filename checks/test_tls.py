"""X6 — TLS 証明書の有効期限, X8 — TLS ハンドシェイクと設定 (`openssl s_client`), MM2 (monthly): each TLS
endpoint's certificate verifies for its name against the target's CA bundle and is far from expiry;
old protocols and weak ciphers are refused; what was negotiated goes into the report."""

import pytest

from opscheck.judge.levels import Level, fail_at
from opscheck.plugin.parameters import on_hosts_with_role
from opscheck.probes.tls import OLD_VERSIONS, WEAK_CIPHERS, accepts, inspect
from opscheck.record import audit

pytestmark = [pytest.mark.security, pytest.mark.weekly]
WARN_DAYS, ERROR_DAYS = 30, 7


@pytest.mark.monthly
@pytest.mark.checklist("X6", "MM2")
@pytest.mark.level("warning")
def test_certificate_verifies_and_is_far_from_expiry(tls_endpoint, target, measured):
    seen = inspect(tls_endpoint, target.spec.tls.ca_bundle, target.spec.http.timeout_s)
    days = seen.days_left()
    measured("days_left", round(days, 1) if days is not None else "unknown")
    measured("negotiated", f"{seen.protocol} {seen.cipher}")
    expiry = f"{seen.not_after:%Y-%m-%d %H:%M} UTC" if seen.not_after else "unknown"
    if days is not None and days <= 0:
        fail_at(Level.CRITICAL, f"{tls_endpoint}: the certificate ({seen.subject}) expired on {expiry}: every "
                "client refuses it. Manual (X6): renew now (certbot renew), reload nginx")  # fmt: skip
    if seen.verify_error:
        names = ", ".join(seen.names) or "none"
        fail_at(Level.ERROR, f"{tls_endpoint}: the certificate does not verify: {seen.verify_error} (subject "
                f"{seen.subject}; names {names}; CA bundle {target.spec.tls.ca_bundle}). Manual (X6): reissue it for "
                "this name from the right CA (certbot certificates), reload nginx")  # fmt: skip
    if days is not None and days < ERROR_DAYS:
        fail_at(Level.ERROR, f"{tls_endpoint}: the certificate expires in {days:.1f} days ({expiry}). "
                "Manual (X6): renew today; find why automatic renewal did not (X7)")  # fmt: skip
    assert days is None or days >= WARN_DAYS, (
        f"{tls_endpoint}: the certificate expires in {days:.0f} days ({expiry}), under {WARN_DAYS}. "
        "Manual (X6): renewal should have happened by now (certbot renews at 30 days); check X7"
    )


@pytest.mark.checklist("X8", "W2")
@pytest.mark.level("warning")
def test_old_protocols_are_refused(tls_endpoint, target):
    accepted = [name for version, name in OLD_VERSIONS.items()
                if accepts(tls_endpoint, target.spec.http.timeout_s, version=version)]  # fmt: skip
    assert not accepted, (
        f"{tls_endpoint} accepts {' and '.join(accepted)}. Manual (X8): ssl_protocols TLSv1.2 TLSv1.3; in nginx"
    )


@pytest.mark.checklist("X8", "W2")
@pytest.mark.level("warning")
def test_no_weak_cipher_is_accepted(tls_endpoint, target):
    """Offered only anonymous, null, export and other weak suites (as far as this machine's OpenSSL has them)."""
    assert not accepts(tls_endpoint, target.spec.http.timeout_s, ciphers=WEAK_CIPHERS), (
        f"{tls_endpoint} completes a handshake offering only weak ciphers ({WEAK_CIPHERS}). Manual (X8): "
        "ssl_ciphers from Mozilla's intermediate configuration"
    )


X7_DAYS = 31


@pytest.mark.monthly
@on_hosts_with_role("api")
@pytest.mark.checklist("X7", "MM2")
@pytest.mark.level("error")
def test_certificate_renewal_works(host, host_spec, target, attestation_trail, measured):
    """`certbot renew --dry-run` where the host has certbot; elsewhere a person attests that renewal works."""
    if host.exists("certbot"):
        dry_run = host.run("certbot renew --dry-run --non-interactive")
        measured("certbot", "dry run passed" if dry_run.rc == 0 else f"exit {dry_run.rc}")
        assert dry_run.rc == 0, (
            f"certbot renew --dry-run fails on {host_spec.name}: {(dry_run.stderr or dry_run.stdout).strip()[-400:]}. "
            "Manual (X7): the next renewal will fail too; fix it before the certificate's last 30 days"
        )
        return
    limit = target.spec.attestations.max_age_days.get("X7", X7_DAYS)
    title = f"certificate renewal works; no certbot on {host_spec.name}"
    latest, problem = audit.stale_attestation(attestation_trail, "X7", title, limit)
    if latest:
        measured("attested", f"{latest['by']}, {latest['age_days']} days ago")
    assert not problem, problem
