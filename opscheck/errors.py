"""Errors that reach an operator as one line: what is wrong and what to do."""


class OpscheckError(Exception):
    """Base of every error opscheck reports to a person instead of a traceback."""


class TargetError(OpscheckError):
    """The target file is missing, malformed, or names a secret that is not set."""


class ProbeError(OpscheckError):
    """A part of the target could not be reached or read: names the part, the address and the cause."""

    def __init__(self, part: str, address: str, cause: str) -> None:
        super().__init__(f"{part} at {address}: {cause}")
        self.part = part
        self.address = address
        self.cause = cause
