"""The order state machine: which broker status may follow which.

Terminal states never change. Out-of-order or impossible updates (a `new` after `filled`, a fill
on a canceled order) are refused, logged and counted, never applied.
"""

from __future__ import annotations

from collections import Counter

import structlog

from inavd.domain.orders import OrderStatus as S

log = structlog.get_logger(__name__)

_FILLING = {S.PARTIALLY_FILLED, S.FILLED}
_ENDING = {S.CANCELED, S.EXPIRED, S.DONE_FOR_DAY}
_AFTER = _FILLING | _ENDING
_LIVE = {S.NEW, S.ACCEPTED, S.PARTIALLY_FILLED, S.PENDING_CANCEL, S.PENDING_REPLACE, S.DONE_FOR_DAY}

TRANSITIONS: dict[S, frozenset[S]] = {
    S.PENDING_NEW: frozenset({S.NEW, S.ACCEPTED, S.REJECTED, S.PENDING_CANCEL} | _AFTER),
    S.ACCEPTED: frozenset({S.NEW, S.REJECTED, S.PENDING_CANCEL, S.PENDING_REPLACE} | _AFTER),
    S.NEW: frozenset({S.PENDING_CANCEL, S.PENDING_REPLACE, S.REPLACED, S.REJECTED} | _AFTER),
    S.PARTIALLY_FILLED: frozenset({S.PENDING_CANCEL, S.PENDING_REPLACE, S.REPLACED} | _AFTER),
    # a cancel or replace that the broker refuses returns the order to where it was
    S.PENDING_CANCEL: frozenset({S.NEW, S.ACCEPTED} | _AFTER),
    S.PENDING_REPLACE: frozenset({S.NEW, S.ACCEPTED, S.REPLACED, S.PENDING_CANCEL} | _AFTER),
    S.DONE_FOR_DAY: frozenset({S.NEW, S.CANCELED, S.EXPIRED} | _FILLING),
    S.FILLED: frozenset(),
    S.CANCELED: frozenset(),
    S.EXPIRED: frozenset(),
    S.REJECTED: frozenset(),
    S.REPLACED: frozenset(),
}
REPEATABLE = frozenset({S.PARTIALLY_FILLED})  # each partial fill repeats the status
# what may follow each status, the status itself included where it may repeat (a live order's
# status re-sent): one lookup per update
ALLOWED: dict[S, frozenset[S]] = {
    old: (nxt - {old}) | ({old} & (REPEATABLE | _LIVE)) for old, nxt in TRANSITIONS.items()
}


def is_legal(old: S, new: S) -> bool:
    return new in ALLOWED[old]


class OrderStateMachine:
    """Current status per client order id; `apply` refuses illegal transitions."""

    def __init__(self) -> None:
        self.status: dict[str, S] = {}
        self.refused: Counter[str] = Counter()  # "old->new" → count

    def start(self, coid: str) -> None:
        """The intent is journaled and about to be sent: in flight until the broker answers."""
        if coid in self.status:
            raise ValueError(f"client order id reused: {coid}")
        self.status[coid] = S.PENDING_NEW

    def adopt(self, coid: str, status: S) -> None:
        """Take the broker's word for an order (reconciliation, lookup after an unknown outcome)."""
        self.status[coid] = status

    def apply(self, coid: str, new: S) -> bool:
        old = self.status.get(coid)
        if old is None:  # an order this process did not send: adopt it, reconciliation reports it
            self.status[coid] = new
            return True
        if new not in ALLOWED[old]:  # is_legal, without the call
            self.refused[f"{old.value}->{new.value}"] += 1
            log.warning("illegal order transition refused", client_order_id=coid, old=old, new=new)
            return False
        self.status[coid] = new
        return True
