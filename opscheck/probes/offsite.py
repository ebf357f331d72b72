"""The off-site copy in object storage (the manual's `aws s3 sync $BACKUP_DIR s3://miraikakaku-backup/$DATE/`),
read-only through boto3: which sets are there, each object's size and checksum, an object's content streamed
and hashed within a bound where the store keeps no checksum to compare (a multipart upload's ETag)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from opscheck.errors import ProbeError
from opscheck.probes.backups import BackupSet


@dataclass(frozen=True)
class StoredObject:
    name: str  # within the set's prefix
    size: int
    etag: str  # the MD5 of the content for a single-part upload; "<md5>-<parts>" for a multipart one

    @property
    def md5(self) -> str | None:
        return None if "-" in self.etag else self.etag


class ObjectStore:
    """One `s3://bucket/prefix` of an S3-compatible store (its endpoint URL for one that is not AWS)."""

    part = "off-site copy"

    def __init__(self, url: str, endpoint_url: str | None, region: str | None, key: str | None, secret: str | None,
                 timeout_s: float) -> None:  # fmt: skip
        parts = urlsplit(url)
        self.url, self.bucket, self.prefix = url, parts.netloc, parts.path.strip("/")
        self.prefix = f"{self.prefix}/" if self.prefix else ""
        # boto3 (~0.2 s to import) only where the off-site copy is in object storage: every run imports this module.
        import boto3
        from botocore.config import Config

        config = Config(connect_timeout=timeout_s, read_timeout=timeout_s, retries={"max_attempts": 2},
                        signature_version="s3v4")  # fmt: skip
        self._client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region, aws_access_key_id=key, aws_secret_access_key=secret,
            config=config,
        )  # fmt: skip

    def _fail(self, exc: Exception) -> ProbeError:
        if isinstance(exc, ClientError):
            cause = f"{exc.response.get('Error', {}).get('Code')}: {exc.response.get('Error', {}).get('Message')}"
        else:
            cause = " ".join(str(exc).split())
        return ProbeError(self.part, self.url, cause)

    def sets(self) -> list[str]:
        """The set folders under the prefix (`20261204_030000/`, …), sorted."""
        found: list[str] = []
        try:
            for page in self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix, Delimiter="/"
            ):
                found += [p["Prefix"][len(self.prefix) :].rstrip("/") for p in page.get("CommonPrefixes", [])]
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc) from None
        return sorted(found)

    def objects(self, set_name: str) -> dict[str, StoredObject]:
        """What the store holds of one set: name → size and checksum."""
        prefix = f"{self.prefix}{set_name}/"
        out: dict[str, StoredObject] = {}
        try:
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    name = item["Key"][len(prefix) :]
                    out[name] = StoredObject(name, int(item["Size"]), item["ETag"].strip('"'))
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc) from None
        return out

    def digest(self, set_name: str, name: str, algorithm: str, max_bytes: int) -> str | None:
        """The object's content hashed as it streams; None where it is larger than `max_bytes` (not read)."""
        key = f"{self.prefix}{set_name}/{name}"
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=key)
            if body["ContentLength"] > max_bytes:
                body["Body"].close()
                return None
            hasher = hashlib.new(algorithm)
            for block in body["Body"].iter_chunks(1 << 20):
                hasher.update(block)
            return hasher.hexdigest()
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc) from None


def differences(local: BackupSet, stored: dict[str, StoredObject], store: ObjectStore, max_bytes: int) -> list[str]:
    """How the stored objects of a set differ from the set, file for file: missing, another size, other content
    (the MD5 ETag against the local file's MD5; where the store keeps none, the object streamed and hashed)."""
    problems = []
    for name, entry in sorted(local.file_entries().items()):
        found = stored.get(name)
        if found is None:
            problems.append(f"{name} is missing")
        elif found.size != entry.size:
            problems.append(f"{name} is {found.size} bytes there, {entry.size} here")
        elif found.md5 is not None:
            if local.digest(name, "md5") != found.md5:
                problems.append(f"{name} differs in content (MD5)")
        else:
            there = store.digest(local.name, name, "sha256", max_bytes)
            if there is None:
                problems.append(f"{name} could not be verified: larger than offsite_verify_max_mb, multipart ETag")
            elif there != local.digest(name):
                problems.append(f"{name} differs in content (SHA-256)")
    return problems
