"""Preflight results and the table `inavd doctor` prints.

A check that FAILs would stop trading (wrong keys, a blocked account, a stream the plan does not
allow, a port already taken); a WARN is worth knowing but trading goes on (a short symbol the venue
will not lend, MQTT away: events wait in the outbox).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    detail: str


def ok(name: str, detail: str) -> Check:
    return Check(name, Status.OK, detail)


def warn(name: str, detail: str) -> Check:
    return Check(name, Status.WARN, detail)


def fail(name: str, detail: str) -> Check:
    return Check(name, Status.FAIL, detail)


def skip(name: str, detail: str) -> Check:
    return Check(name, Status.SKIP, detail)


def render(checks: list[Check]) -> str:
    width = max([len("check"), *(len(c.name) for c in checks)])
    lines = [f"{'check':<{width}}  status  detail"]
    lines += [f"{c.name:<{width}}  {c.status.value:<6}  {c.detail}" for c in checks]
    failed = [c.name for c in checks if c.status is Status.FAIL]
    if failed:
        names = ", ".join(failed)
        lines.append(f"{len(failed)} check(s) failed: {names} — trading would not start")
    else:
        lines.append("ready to trade")
    return "\n".join(lines)


def exit_code(checks: list[Check]) -> int:
    return 1 if any(c.status is Status.FAIL for c in checks) else 0
