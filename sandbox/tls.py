"""The sandbox's own CA and a server certificate for 127.0.0.1 / localhost, so HTTPS is verified for real.

The CA key is kept beside it (0600), so faults can re-issue the server certificate: near its expiry,
expired, or for another name. `server-options.json` is the server's TLS configuration (protocols,
ciphers), as nginx's ssl_protocols and ssl_ciphers would be; absent means the modern defaults.
"""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sandbox.state import atomic_write

SERVER_NAMES = ("localhost", "127.0.0.1")
OPTIONS = "server-options.json"
RELOADS = "reloads"  # how many times the server read its TLS configuration again (SIGHUP)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "opscheck sandbox"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])  # fmt: skip


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)


def make_ca_and_server(folder: Path, valid_days: int = 90) -> None:
    """Write ca.pem (and its key), server.pem and server.key into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("opscheck sandbox CA"))
        .issuer_name(_name("opscheck sandbox CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    _write_key(folder / "ca.key", ca_key)
    issue_server(folder, now + timedelta(days=valid_days))


def issue_server(folder: Path, not_after: datetime, names: tuple[str, ...] = SERVER_NAMES) -> None:
    """A server certificate from the sandbox CA for `names`, valid until `not_after`."""
    ca = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
    ca_key = serialization.load_pem_private_key((folder / "ca.key").read_bytes(), password=None)
    now = datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    alternatives = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n) for n in names]
    server = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(now, not_after) - timedelta(days=30))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    _write_key(folder / "server.key", key)


def set_server_options(folder: Path, minimum_version: str | None = None, ciphers: str | None = None) -> None:
    """The server's TLS configuration (read when it starts); nothing given means the modern defaults."""
    options = {k: v for k, v in {"minimum_version": minimum_version, "ciphers": ciphers}.items() if v}
    path = folder / OPTIONS
    if options:
        path.write_text(json.dumps(options))
    else:
        path.unlink(missing_ok=True)


def server_options(folder: Path) -> dict[str, str]:
    path = folder / OPTIONS
    return json.loads(path.read_text()) if path.exists() else {}


def count_reload(folder: Path) -> None:
    """Said by the server once it has read its certificate and options again."""
    atomic_write(folder / RELOADS, str(reloads(folder) + 1))  # never read half written


def reloads(folder: Path) -> int:
    path = folder / RELOADS
    return int(path.read_text() or 0) if path.exists() else 0
