"""Times a person's script wrote: the newest ISO 8601 stamp in a record (`date -Is`, JSON, a log line)."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")


def recorded_start(text: str, zone: tzinfo) -> datetime | None:
    """The newest stamp in `text`; one without an offset is in `zone` (the platform's own clock)."""
    found = []
    for stamp in ISO.findall(text):
        try:
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            continue
        found.append(moment if moment.tzinfo else moment.replace(tzinfo=zone))
    return max(found, default=None)
