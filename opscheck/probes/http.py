"""HTTP probe: one httpx client per part, with the target's timeout and CA bundle, never unbounded."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import httpx

from opscheck import __version__
from opscheck.errors import ProbeError
from opscheck.identity import PROBE_AGENT


@dataclass(frozen=True)
class Answer:
    """One HTTP answer, reduced to what checks judge and reports show."""

    url: str
    status: int
    elapsed_ms: float
    body: str
    headers: httpx.Headers

    def json(self) -> object:
        return httpx.Response(self.status, content=self.body.encode()).json()


class HttpProbe:
    def __init__(self, part: str, timeout_s: float, ca_bundle: Path | None = None) -> None:
        self.part = part
        self.timeout_s = timeout_s
        verify: ssl.SSLContext | bool = True
        if ca_bundle is not None:
            verify = ssl.create_default_context(cafile=str(ca_bundle))
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s), verify=verify, follow_redirects=False,
            headers={"User-Agent": f"{PROBE_AGENT}{__version__}"},
        )  # fmt: skip

    def get(self, url: str, part: str | None = None, headers: dict[str, str] | None = None) -> Answer:
        """GET `url`; any failure to get an answer is a ProbeError naming `part` (or this probe's)."""
        part = part or self.part
        try:
            response = self._client.get(url, headers=headers)
        except httpx.TimeoutException:
            raise ProbeError(part, url, f"no answer within {self.timeout_s:g} s") from None
        except httpx.ConnectError as exc:
            raise ProbeError(part, url, f"cannot connect ({_cause(exc)})") from None
        except httpx.HTTPError as exc:
            raise ProbeError(part, url, _cause(exc)) from None
        return Answer(
            url=url,
            status=response.status_code,
            elapsed_ms=response.elapsed.total_seconds() * 1000,
            body=response.text,
            headers=response.headers,
        )

    def close(self) -> None:
        self._client.close()


def _cause(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())
