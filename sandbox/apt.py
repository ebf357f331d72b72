"""The sandbox host's package state, kept in its own apt root: what is installed (a dpkg status file) and
what the distribution's security archive offers (a local repository apt reads over file:).

MM1 runs the real `apt-get -s dist-upgrade` against it, so a pending security update is found the way
it is on a real host, and the healthy sandbox does not depend on how up to date this machine is.
"""

from __future__ import annotations

import email.utils
import hashlib
import os
import subprocess
import time
from pathlib import Path

from sandbox.errors import SandboxError

PACKAGE = "openssl"
INSTALLED = "3.0.17-1~deb12u2"
FIXED = "3.0.17-1~deb12u3"  # what the security archive offers once an advisory is out
SUITE = "bookworm-security"


def age_lists(root: Path, days: float) -> None:
    """Make the package lists look `days` old: the host's apt-daily timer stopped that long ago."""
    then = time.time() - days * 86400
    for path in (root / "var/lib/apt/lists").iterdir():
        if path.is_file():
            os.utime(path, (then, then))


def write(root: Path, offered: str = INSTALLED) -> None:
    """Install PACKAGE at INSTALLED and let the security archive offer `offered`; refresh the lists."""
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip() or "amd64"
    for folder in ("etc/apt/apt.conf.d", "etc/apt/preferences.d", "etc/apt/sources.list.d", "var/lib/dpkg",
                   "var/lib/apt/lists/partial", "var/cache/apt/archives/partial"):  # fmt: skip
        (root / folder).mkdir(parents=True, exist_ok=True)
    stanza = (
        f"Package: {PACKAGE}\nPriority: optional\nSection: utils\nInstalled-Size: 2000\n"
        f"Maintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>\nArchitecture: {arch}\n"
    )
    (root / "var/lib/dpkg/status").write_text(
        f"{stanza}Status: install ok installed\nVersion: {INSTALLED}\nDescription: Secure Sockets Layer toolkit\n\n"
    )
    dist = root / "repo" / "dists" / SUITE
    packages = dist / "main" / f"binary-{arch}" / "Packages"
    packages.parent.mkdir(parents=True, exist_ok=True)
    packages.write_text(
        f"{stanza}Version: {offered}\nFilename: pool/updates/main/o/{PACKAGE}/{PACKAGE}_{offered}_{arch}.deb\n"
        f"Size: 1000\nSHA256: {'0' * 64}\nDescription: Secure Sockets Layer toolkit\n\n"
    )
    digest = hashlib.sha256(packages.read_bytes()).hexdigest()
    (dist / "Release").write_text(
        f"Origin: Debian\nLabel: Debian-Security\nSuite: stable-security\nCodename: {SUITE}\n"
        f"Date: {email.utils.formatdate(usegmt=True)}\nArchitectures: {arch}\nComponents: main\n"
        f"SHA256:\n {digest} {packages.stat().st_size} main/binary-{arch}/Packages\n"
    )
    (root / "etc/apt/sources.list").write_text(f"deb [trusted=yes] file:{root / 'repo'} {SUITE} main\n")
    result = subprocess.run(
        ["apt-get", "-o", f"Dir={root}", "-o", f"Dir::State::status={root}/var/lib/dpkg/status",
         "-o", "Debug::NoLocking=1", "update"], capture_output=True, text=True, timeout=60)  # fmt: skip
    if result.returncode != 0:
        raise SandboxError(f"apt-get update of the sandbox's package state failed: {result.stderr.strip()[-300:]}")
