"""Name resolution with a deadline: getaddrinfo has no timeout of its own, so it runs in a thread."""

from __future__ import annotations

import concurrent.futures
import socket

from opscheck.errors import ProbeError

_RESOLVER = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="opscheck-resolve")


def resolve(host: str, timeout_s: float) -> list[str]:
    """The addresses `host` resolves to, or ProbeError naming what went wrong within `timeout_s`."""
    future = _RESOLVER.submit(socket.getaddrinfo, host, None, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=timeout_s)
    except concurrent.futures.TimeoutError:
        raise ProbeError("DNS", host, f"no answer within {timeout_s:g} s") from None
    except socket.gaierror as exc:
        raise ProbeError("DNS", host, f"does not resolve ({exc.strerror})") from None
    return sorted({info[4][0] for info in infos})
