"""The sandbox's one error type: one line for the person who ran `opscheck sandbox …`."""


class SandboxError(Exception):
    """The sandbox could not be started, stopped or changed; the message says why and what to do."""
