"""`python -m sandbox.platform.serve NAME ROOT`: run one of the platform's services under uvicorn.

ROOT (the sandbox's folder) is on the command line so that `ps` tells two sandboxes' services apart.
"""

from __future__ import annotations

import os
import signal
import ssl
import sys
from pathlib import Path

import uvicorn

from sandbox.tls import count_reload, server_options

APPS = {
    "api": "sandbox.platform.api:app",
    "frontend": "sandbox.platform.frontend:app",
    "streaming": "sandbox.platform.streaming:app",
    "monitoring": "sandbox.platform.monitoring:app",
    "advisories": "sandbox.platform.advisories:app",
}
HTTPS = {"api"}


class TlsConfig(uvicorn.Config):
    """uvicorn's TLS context, then the sandbox's server options (old protocols, other ciphers) on top; read again
    on SIGHUP, as nginx reloads its certificate and ssl_* settings without a restart."""

    def __init__(self, *args, tls_folder: Path | None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tls_folder = tls_folder

    def load(self) -> None:
        super().load()
        if self.ssl is None or self.tls_folder is None:
            return
        ciphers = f"{self.ssl_ciphers or 'DEFAULT'}:@SECLEVEL={self.ssl.security_level}"
        self.defaults = (self.ssl.minimum_version, ciphers)
        self._apply_options()
        signal.signal(signal.SIGHUP, lambda signum, frame: self.reload_tls())

    def reload_tls(self) -> None:
        """The certificate and options read again, for the connections to come, then counted (sandbox.tls.reloads)."""
        assert self.ssl is not None and self.tls_folder is not None
        self.ssl.load_cert_chain(str(self.ssl_certfile), str(self.ssl_keyfile))
        self._apply_options()
        count_reload(self.tls_folder)

    def _apply_options(self) -> None:
        assert self.ssl is not None and self.tls_folder is not None
        options = server_options(self.tls_folder)
        minimum, ciphers = self.defaults
        self.ssl.set_ciphers(options.get("ciphers", ciphers))  # a default without @SECLEVEL would keep the last one
        self.ssl.minimum_version = (
            ssl.TLSVersion[options["minimum_version"]] if "minimum_version" in options else minimum
        )


def main(name: str) -> None:
    from sandbox.platform.common import ports, sandbox

    tls = sandbox().tls
    options = {"ssl_certfile": str(tls / "server.pem"), "ssl_keyfile": str(tls / "server.key")} if name in HTTPS else {}
    config = TlsConfig(
        APPS[name], host="127.0.0.1", port=ports()[name], log_level="warning", access_log=False,
        # A client's idle TLS connection (the monitoring's) is never closed by its peer: stopping would wait it out
        timeout_graceful_shutdown=0.5, tls_folder=tls if name in HTTPS else None, **options,
    )  # fmt: skip
    uvicorn.Server(config).run()


if __name__ == "__main__":
    os.environ["SANDBOX_DIR"] = sys.argv[2]
    main(sys.argv[1])
