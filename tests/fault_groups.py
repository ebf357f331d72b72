"""Faults that can share one run of the checks, and the proof that each still fails exactly its own checks.

A run of a whole schedule costs seconds (the weekly's API scan and audits most), and the catalogue asks for some
180 of them. Faults of different subjects (or of one that allows it), caught in different check files, are
injected together and judged by one run: exactly the union of what each must fail, each at its level. A failure
in that run could be any member's doing, so each member is then injected alone and the union's checks run again:
exactly its own must fail. A fault that stops a part of the platform, or loads the whole machine, reaches past its
own checks (blocked checks, latencies) and always runs alone; so do faults of subjects whose checks compare each
other's things (APART).
"""

from __future__ import annotations

from sandbox.faults import CATALOGUE, SUBJECTS, Fault

GROUP_SIZE = 4
ALONE_SUBJECTS = ("processes", "resources")  # parts stopped; CPU, memory, disk and IO of the whole machine
# Subjects whose faults change what each other's checks compare: the table against the backup's record (the shrink
# check, the drill). Caught in different files, they still cannot share a run.
APART = (frozenset({"backups", "database"}),)
# Faults of one subject work on one thing (the backup sets, the suite's history, a log) and never share a run, but
# for these: each database fault has a table or setting of its own (the batch log, the prices, the predictions,
# max_connections). Backups' two together hid one (the drill took the other's set); so did the history's.
SHARE_WITHIN = ("database",)
SUBJECT_OF = {fault.name: subject.__name__.rsplit(".", 1)[-1] for subject in SUBJECTS for fault in subject.FAULTS}


def grouped(names: list[str], selection: str, shape: str = "default") -> list[tuple[str, ...]]:
    """`names` (faults a run of `selection` must catch), in catalogue order, in groups that can share a run."""
    groups: list[list[str]] = []
    for name in names:
        home = next((group for group in groups if _joins(name, group, selection, shape)), None)
        if home is None:
            groups.append([name])
        else:
            home.append(name)
    return [tuple(group) for group in groups]


def _joins(name: str, group: list[str], selection: str, shape: str) -> bool:
    if len(group) >= GROUP_SIZE or not all(_may_share(n) for n in (name, *group)):
        return False
    files = _files(CATALOGUE[name], selection, shape)
    return all(
        not _related(SUBJECT_OF[other], SUBJECT_OF[name]) and not files & _files(CATALOGUE[other], selection, shape)
        for other in group
    )


def _related(one: str, other: str) -> bool:
    if one == other:
        return one not in SHARE_WITHIN
    return any({one, other} <= apart for apart in APART)


def _may_share(name: str) -> bool:
    return not CATALOGUE[name].roots and SUBJECT_OF[name] not in ALONE_SUBJECTS


def _files(fault: Fault, selection: str, shape: str) -> set[str]:
    return {pattern.split("::")[0] for pattern in fault.wanted(selection, shape)}


def union(expected: dict[str, dict[str, str]]) -> dict[str, str]:
    """What the group's run must fail: every member's checks, which no two members share."""
    merged: dict[str, str] = {}
    for name, checks in expected.items():
        shared = merged.keys() & checks.keys()
        assert not shared, f"{name} shares {sorted(shared)} with another fault of its group: it must run alone"
        merged.update(checks)
    return merged
