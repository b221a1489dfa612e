"""Automatic run ids: a new one per start, even for starts in the same second (a second
daemon on the same journal must be refused by the state lock, not mistaken for the first run)."""

from __future__ import annotations

import time

from inavd.app import new_run_id
from inavd.execution.ids import MAX_LEN, client_order_id


def test_run_ids_of_starts_a_few_milliseconds_apart_differ() -> None:
    first = new_run_id()
    time.sleep(0.005)
    second = new_run_id()
    assert first != second
    assert first.startswith("r") and first[1:].isalnum() and first[1:].islower()


def test_a_run_id_leaves_client_order_ids_readable() -> None:
    coid = client_order_id(new_run_id(), "premarb", "SPXU", 123_456)
    assert len(coid) <= MAX_LEN and "~" not in coid  # not shortened to a digest
