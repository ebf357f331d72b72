"""The fleet's off-site copy: an S3 API server of the sandbox's own on loopback (moto's), and the sandbox's
`aws s3 sync` into it (boto3), so the checks read the off-site copy as they read a real bucket."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import httpx

from sandbox.errors import SandboxError
from sandbox.state import Sandbox, State, spawn

BUCKET = "miraikakaku-backup"
REGION = "us-east-1"
KEY_NAMES = ("OPSCHECK_SANDBOX_S3_KEY", "OPSCHECK_SANDBOX_S3_SECRET")


def uses_s3(state: State | None) -> bool:
    return state is not None and "s3" in state.ports


def endpoint(state: State) -> str:
    return f"http://127.0.0.1:{state.ports['s3']}"


def start(sandbox: Sandbox, state: State) -> int:
    """moto's S3 server on its port, and the manual's bucket in it."""
    # SANDBOX_DIR names the sandbox in its environment: `down` stops only processes it recognises as its own.
    pid = spawn([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(state.ports["s3"])],
                sandbox.run_logs / "s3.out", env={**os.environ, "SANDBOX_DIR": str(sandbox.root)})  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(endpoint(state), timeout=1)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise SandboxError(f"the S3 server did not start: see {sandbox.run_logs / 's3.out'}") from None
            time.sleep(0.1)
    client(sandbox, state).create_bucket(Bucket=BUCKET)
    return pid


def client(sandbox: Sandbox, state: State):
    # boto3 takes ~0.3 s to import: only the fleet's uploads need it, not every `--target sandbox` run.
    import boto3

    secrets = sandbox.secrets()
    key, secret = (secrets[name] for name in KEY_NAMES)
    return boto3.client("s3", endpoint_url=endpoint(state), region_name=REGION, aws_access_key_id=key,
                        aws_secret_access_key=secret)  # fmt: skip


def sync(sandbox: Sandbox, state: State, folder: Path, only: list[str] | None = None) -> None:
    """`aws s3 sync FOLDER s3://miraikakaku-backup/<set>/`: every file of the set (or `only` these) uploaded."""
    s3 = client(sandbox, state)
    for file in sorted(p for p in folder.iterdir() if p.is_file() and (only is None or p.name in only)):
        s3.upload_file(str(file), BUCKET, f"{folder.name}/{file.name}")


def delete(sandbox: Sandbox, state: State, set_name: str, name: str | None = None) -> None:
    """Remove one object of a set (or the whole set) from the bucket."""
    s3 = client(sandbox, state)
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{set_name}/").get("Contents", [])
    for item in listed:
        if name is None or item["Key"] == f"{set_name}/{name}":
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])
