"""`python -m sandbox.platform.serve NAME`: run one of the platform's services under uvicorn."""

from __future__ import annotations

import sys

import uvicorn

from sandbox.platform.common import ports, sandbox

APPS = {
    "api": "sandbox.platform.api:app",
    "frontend": "sandbox.platform.frontend:app",
    "streaming": "sandbox.platform.streaming:app",
    "monitoring": "sandbox.platform.monitoring:app",
}
HTTPS = {"api"}


def main(name: str) -> None:
    tls = sandbox().tls
    options = {"ssl_certfile": str(tls / "server.pem"), "ssl_keyfile": str(tls / "server.key")} if name in HTTPS else {}
    uvicorn.run(
        APPS[name], host="127.0.0.1", port=ports()[name], log_level="warning", access_log=False,
        timeout_graceful_shutdown=2, **options,
    )  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1])
