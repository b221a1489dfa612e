"""Events of the execution engine (published on the bus like the domain events)."""

from __future__ import annotations

from inavd.domain.events import Event


class ReconciliationDiff(Event, frozen=True):
    """A difference between the journal and the broker found (and repaired) by reconciliation."""

    kind: str  # unknown_order | order_state | missing_fill | lost_order | position
    symbol: str
    client_order_id: str
    detail: str
