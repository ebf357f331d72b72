"""`python -m sandbox.platform.serve NAME ROOT`: run one of the platform's services under uvicorn.

ROOT (the sandbox's folder) is on the command line so that `ps` tells two sandboxes' services apart.
"""

from __future__ import annotations

import os
import sys

import uvicorn

APPS = {
    "api": "sandbox.platform.api:app",
    "frontend": "sandbox.platform.frontend:app",
    "streaming": "sandbox.platform.streaming:app",
    "monitoring": "sandbox.platform.monitoring:app",
}
HTTPS = {"api"}


def main(name: str) -> None:
    from sandbox.platform.common import ports, sandbox

    tls = sandbox().tls
    options = {"ssl_certfile": str(tls / "server.pem"), "ssl_keyfile": str(tls / "server.key")} if name in HTTPS else {}
    uvicorn.run(
        APPS[name], host="127.0.0.1", port=ports()[name], log_level="warning", access_log=False,
        timeout_graceful_shutdown=2, **options,
    )  # fmt: skip


if __name__ == "__main__":
    os.environ["SANDBOX_DIR"] = sys.argv[2]
    main(sys.argv[1])
