"""The manual's escalation flow (エスカレーション・連絡先), judged from the suite's own history.

An incident is a failing check on a target, or one root cause with the checks it blocks under it; its key
is stable across runs. It began with the first run of its unbroken failing streak (runs that did not
run the check say nothing either way), so its age is read from the history's clock, never from a wait.
Like Alertmanager's notification log, each run leaves what it told (`notifications.json`): the next run
tells an incident again only when it has climbed a step, and says "resolved" once it passes.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from opscheck.judge.causes import blocked_count
from opscheck.target.record import Notify

LOG = "notifications.json"
LEVELS = ("warning", "error", "critical")
HQ = 4  # past Level 3's time: the manual's 緊急対策本部設置, told on Level 3's channel
FAILED = ("failed", "error")
LOCATION = re.compile(r"^(E\s+)?\S+\.py:\d+: ")


@dataclass(frozen=True)
class Incident:
    """What is failing now, as the latest run saw it."""

    key: str  # "check:<node id>" or "root:<root cause id>"
    title: str
    level: str  # its alert level in the latest run
    detail: str  # its failure in one line
    since: datetime  # when the first run of its streak finished
    passed_before: bool = True  # False when the streak reaches back past the history read: it may be older


@dataclass(frozen=True)
class Told:
    """An entry of the notification log: an open incident as it was last told."""

    key: str
    title: str
    since: str
    step: int


Log = dict[str, Told]  # by incident key


@dataclass(frozen=True)
class Event:
    """One message to send: an incident told at a step (new or escalated), or resolved."""

    kind: Literal["firing", "resolved"]
    key: str
    title: str
    step: int
    since: datetime
    level: str = ""
    detail: str = ""
    escalated: bool = False


def _failing(check: dict[str, Any]) -> bool:
    return check.get("outcome") in FAILED


def verdicts(run: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    """Every incident key the run can tell about: its failure (title, level, detail), or None when it passed.

    A check blocked by a root cause is not an incident of its own: the root cause is. A root cause is told
    only by a run whose preflight ran (it holds `root_causes`); a check only by a run that ran it.
    """
    roots = run.get("root_causes")
    blocked = {nodeid for root in roots or () for nodeid in root.get("blocks") or ()}
    out: dict[str, dict[str, Any] | None] = {}
    for check in run.get("checks", []):
        if check.get("outcome") == "skipped" or check.get("blocked_by") or check["nodeid"] in blocked:
            continue
        ids = " ".join(check.get("checklist") or ())
        out[f"check:{check['nodeid']}"] = (
            {
                "title": f"{ids} {check['nodeid']}".strip(),
                "level": _level(check.get("failed_level") or check.get("level")),
                "detail": _gist(check.get("message") or ""),
            }
            if _failing(check)
            else None
        )
    if roots is not None:
        for root in roots:
            out[f"root:{root['id']}"] = {
                "title": f"{root['id']} ({blocked_count(len(root.get('blocks') or ()))})",
                "level": _level(root.get("level")),
                "detail": _gist(" — ".join(filter(None, (root.get("message"), root.get("remedy"))))),
            }
    return out


def _level(name: object) -> str:
    """An alert level as recorded; one the run could not tell (unlevelled) counts as an ERROR."""
    return name if isinstance(name, str) and name in LEVELS else "error"


def _tells(run: dict[str, Any], told: dict[str, dict[str, Any] | None], key: str) -> bool | None:
    """Whether the run failed `key` (True), passed it (False), or says nothing of it (None): a run whose
    preflight ran and did not name a root cause passed it."""
    if key in told:
        return told[key] is not None
    return False if key.startswith("root:") and run.get("root_causes") is not None else None


def _gist(text: str) -> str:
    """The failure's own words: its last line (a chained failure's final message), without `file.py:29: `."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return LOCATION.sub("", lines[-1])[:500] if lines else ""


def finished(run: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(run["finished"])


def incidents(history: list[dict[str, Any]]) -> dict[str, Incident]:
    """The incidents open in the latest run of `history` (one target's runs, oldest first), each with the
    start of its streak: walking back, the earliest run that failed it with no pass in between."""
    if not history:
        return {}
    told_by = [verdicts(run) for run in history]
    out = {}
    for key, failure in told_by[-1].items():
        if failure is None:
            continue
        since, passed = finished(history[-1]), False
        for run, told in zip(reversed(history[:-1]), reversed(told_by[:-1]), strict=True):
            failed = _tells(run, told, key)
            if failed is False:
                passed = True
                break
            if failed:
                since = finished(run)
        out[key] = Incident(key, failure["title"], failure["level"], failure["detail"], since, passed)
    return out


def step(start: int, age: timedelta, stays: tuple[float, float, float]) -> int:
    """The escalation step an incident that began at Level `start` has reached after `age` unresolved:
    each level keeps it for its `stays` minutes (the manual's 30 min, 1 h, 2 h), then the next takes over."""
    level, left = start, age.total_seconds() / 60
    while level < HQ and left >= stays[level - 1]:
        left -= stays[level - 1]
        level += 1
    return level


def plan(history: list[dict[str, Any]], log: Log, spec: Notify) -> list[Event]:
    """What the latest run of `history` must tell, given what earlier runs told (`log`): a new incident at the
    step its age has reached, an incident that climbed a step, and each told incident that passed again."""
    if not history:
        return []
    now, latest = finished(history[-1]), verdicts(history[-1])
    events = []
    for key, incident in incidents(history).items():
        if LEVELS.index(incident.level) < LEVELS.index(spec.level):
            continue
        before = log.get(key)
        if before is not None and not incident.passed_before and datetime.fromisoformat(before.since) < incident.since:
            incident = replace(incident, since=datetime.fromisoformat(before.since))  # began before the history read
        reached = step(getattr(spec.starts_at, incident.level), now - incident.since, spec.escalate_after_min)
        same = before is not None and datetime.fromisoformat(before.since) == incident.since
        if same and before.step >= reached:  # type: ignore[union-attr]
            continue
        events.append(Event("firing", key, incident.title, reached, incident.since, incident.level,
                            incident.detail, escalated=same))  # fmt: skip
    for key, before in log.items():
        if _tells(history[-1], latest, key) is False:
            events.append(Event("resolved", key, before.title, before.step, datetime.fromisoformat(before.since)))
    return events


def next_log(log: Log, events: list[Event], delivered: list[bool]) -> Log:
    """The notification log after this run: what was delivered is on record, an incident told resolved leaves
    it; what was not delivered stays as it was, so the next run tells it again."""
    out = dict(log)
    for event, ok in zip(events, delivered, strict=True):
        if ok and event.kind == "resolved":
            out.pop(event.key, None)
        elif ok:
            out[event.key] = Told(event.key, event.title, event.since.isoformat(), event.step)
    return out


def text(event: Event, target: str, spec: Notify, now: datetime, report: Path) -> str:
    """The message, as the on-call engineer reads it in the channel."""
    channel = spec.channel(event.step).channel
    age = _duration(now - event.since)
    if event.kind == "resolved":
        again = "answers again" if event.key.startswith("root:") else "passes again"
        return f"✅ RESOLVED — opscheck {target}: {event.title} {again} after {age}.\nReport: {report}"
    where = f"Level {min(event.step, 3)} ({channel})"
    if event.step == HQ:
        head = (f"🚨 Unresolved past Level 3 — opscheck {target}: {event.title} has failed for {age}; "
                "the manual's next step: set up the emergency response HQ (緊急対策本部設置)")  # fmt: skip
    elif event.escalated or event.step > getattr(spec.starts_at, event.level):
        head = f"⬆ Escalated to {where} — opscheck {target}: {event.title} unresolved for {age}"
    else:
        head = f"🔔 {event.level.upper()} → {where} — opscheck {target}: {event.title}"
    return f"{head}\n{event.detail}\nFailing since {event.since:%Y-%m-%d %H:%M} UTC. Report: {report}"


def _duration(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def read_log(folder: Path) -> Log | None:
    """A run folder's notification log (None when it has none or it cannot be read)."""
    try:
        raw = json.loads((folder / LOG).read_text(encoding="utf-8"))
        return {entry["key"]: Told(**entry) for entry in raw["open"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def log_json(log: Log, events: list[Event], delivered: list[bool]) -> str:
    sent = [{"kind": e.kind, "key": e.key, "step": e.step, "delivered": ok}
            for e, ok in zip(events, delivered, strict=True)]  # fmt: skip
    return json.dumps({"schema": "opscheck.notifications/1", "open": [asdict(t) for t in log.values()], "sent": sent},
                      indent=2, ensure_ascii=False)  # fmt: skip
