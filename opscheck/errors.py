"""Errors that reach an operator as one line: what is wrong and what to do."""

# The manual's action for a part that cannot be reached, by the first word of the part's name (トラブルシューティング):
# a failure read at 09:00 says what to do, also when the check never got to judge anything.
REMEDIES = {
    "Redis": "redis-cli ping on its host; systemctl restart redis-server (docker-compose up -d redis); read its log",
    "PostgreSQL": "(データベース接続エラー) systemctl status postgresql; pg_isready -h HOST; "
    "sudo systemctl restart postgresql",
    "API": "(サービスが応答しない) systemctl restart miraikakaku-api (docker-compose restart api); "
    "tail /var/log/miraikakaku/api.log",
    "front": "(サービスが応答しない) systemctl restart miraikakaku-frontend (docker-compose restart frontend); "
    "tail /var/log/miraikakaku/frontend.log",
    "backup": "ls -la the backup folder on its host; run the backup by hand (scripts/backup.sh) and read its log",
    "host": "ssh to the host by hand; check that it is up and that this machine may reach it",
}
FALLBACK_REMEDY = "check that it runs and that this machine reaches it (systemctl status, its log), then rerun"


def remedy_for(part: str) -> str:
    """The manual's action for `part`, or the general one (see it run, reach it, read its log)."""
    first = part.split()[0] if part.split() else ""
    return REMEDIES.get(first, FALLBACK_REMEDY)


class OpscheckError(Exception):
    """Base of every error opscheck reports to a person instead of a traceback."""


class TargetError(OpscheckError):
    """The target file is missing, malformed, or names a secret that is not set."""


class ProbeError(OpscheckError):
    """A part of the target could not be reached or read: names the part, the address, the cause and the remedy."""

    def __init__(self, part: str, address: str, cause: str) -> None:
        self.part = part
        self.address = address
        self.cause = cause
        self.remedy = remedy_for(part)
        super().__init__(f"{self.what}. Manual: {self.remedy}")

    @property
    def what(self) -> str:
        """The failure without the remedy, for a check that words its own."""
        return f"{self.part} at {self.address}: {self.cause.rstrip('.')}"
