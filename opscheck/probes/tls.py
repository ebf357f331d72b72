"""TLS endpoints as a client sees them (`openssl s_client`, done in Python): the certificate, whether it
verifies against the target's CA bundle for the name, what is negotiated, and what else is accepted."""

from __future__ import annotations

import socket
import ssl
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

OLD_VERSIONS = {"TLSv1": "TLS 1.0", "TLSv1_1": "TLS 1.1"}
WEAK_CIPHERS = "aNULL:eNULL:EXPORT:LOW:RC4:DES:3DES:MD5:PSK:SRP:CAMELLIA:SEED:IDEA"


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        host, _, port = text.rpartition(":")
        return cls(host.strip("[]") or text, int(port or 443))

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Inspection:
    not_after: datetime | None
    subject: str
    names: list[str]
    verify_error: str | None  # why the chain or the name does not verify; None when it does
    protocol: str | None
    cipher: str | None

    def days_left(self) -> float | None:
        return (self.not_after - datetime.now(UTC)).total_seconds() / 86400 if self.not_after else None


def _handshake(endpoint: Endpoint, context: ssl.SSLContext, timeout_s: float) -> ssl.SSLSocket:
    raw = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout_s)
    try:
        return context.wrap_socket(raw, server_hostname=endpoint.host)
    except BaseException:
        raw.close()
        raise


def inspect(endpoint: Endpoint, ca_bundle: Path | None, timeout_s: float) -> Inspection:
    """Verify as a browser would; when that fails, read the certificate anyway to say why."""
    verifying = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    error = None
    try:
        with _handshake(endpoint, verifying, timeout_s) as tls:
            der, protocol, cipher = tls.getpeercert(binary_form=True), tls.version(), tls.cipher()[0]
    except ssl.SSLCertVerificationError as exc:
        error = exc.verify_message or str(exc)
        lenient = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        lenient.check_hostname, lenient.verify_mode = False, ssl.CERT_NONE
        with _handshake(endpoint, lenient, timeout_s) as tls:
            der, protocol, cipher = tls.getpeercert(binary_form=True), tls.version(), tls.cipher()[0]
    cert = x509.load_der_x509_certificate(der)
    try:
        alternatives = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(n.value) for n in alternatives]
    except x509.ExtensionNotFound:
        names = []
    return Inspection(cert.not_valid_after_utc, cert.subject.rfc4514_string(), names, error, protocol, cipher)


def accepts(endpoint: Endpoint, timeout_s: float, version: str | None = None, ciphers: str | None = None) -> bool:
    """Whether the server completes a handshake offering only `version` (e.g. "TLSv1") or only `ciphers`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # asking for the old versions is the point
        if version:
            context.minimum_version = context.maximum_version = ssl.TLSVersion[version]
        else:
            context.maximum_version = ssl.TLSVersion.TLSv1_2  # TLS 1.3's suites are all strong
        context.set_ciphers((ciphers or "DEFAULT") + ":@SECLEVEL=0")
    try:
        with _handshake(endpoint, context, timeout_s):
            return True
    except (ssl.SSLError, ConnectionResetError):
        return False
