"""`python -m sandbox.platform.serve NAME ROOT`: run one of the platform's services under uvicorn.

ROOT (the sandbox's folder) is on the command line so that `ps` tells two sandboxes' services apart.
"""

from __future__ import annotations

import os
import ssl
import sys

import uvicorn

APPS = {
    "api": "sandbox.platform.api:app",
    "frontend": "sandbox.platform.frontend:app",
    "streaming": "sandbox.platform.streaming:app",
    "monitoring": "sandbox.platform.monitoring:app",
    "advisories": "sandbox.platform.advisories:app",
}
HTTPS = {"api"}


class TlsConfig(uvicorn.Config):
    """uvicorn's TLS context, then the sandbox's server options (old protocols, other ciphers) on top."""

    def __init__(self, *args, tls_options: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tls_options = tls_options

    def load(self) -> None:
        super().load()
        if self.ssl is not None and self.tls_options.get("minimum_version"):
            self.ssl.minimum_version = ssl.TLSVersion[self.tls_options["minimum_version"]]
        if self.ssl is not None and self.tls_options.get("ciphers"):
            self.ssl.set_ciphers(self.tls_options["ciphers"])


def main(name: str) -> None:
    from sandbox.platform.common import ports, sandbox
    from sandbox.tls import server_options

    tls = sandbox().tls
    options = {"ssl_certfile": str(tls / "server.pem"), "ssl_keyfile": str(tls / "server.key")} if name in HTTPS else {}
    config = TlsConfig(
        APPS[name], host="127.0.0.1", port=ports()[name], log_level="warning", access_log=False,
        timeout_graceful_shutdown=2, tls_options=server_options(tls) if name in HTTPS else {}, **options,
    )  # fmt: skip
    uvicorn.Server(config).run()


if __name__ == "__main__":
    os.environ["SANDBOX_DIR"] = sys.argv[2]
    main(sys.argv[1])
