"""Order state machine: legal lifecycles pass, illegal transitions are refused and counted."""

from __future__ import annotations

import pytest

from inavd.domain.orders import OrderStatus as S
from inavd.execution.fsm import TRANSITIONS, OrderStateMachine, is_legal
from inavd.execution.ids import MAX_LEN, child_order_id, client_order_id


@pytest.mark.parametrize(
    "path",
    [
        [S.NEW, S.PARTIALLY_FILLED, S.PARTIALLY_FILLED, S.FILLED],
        [S.ACCEPTED, S.NEW, S.PENDING_CANCEL, S.CANCELED],
        [S.NEW, S.PENDING_REPLACE, S.REPLACED],
        [S.NEW, S.PENDING_CANCEL, S.FILLED],  # the fill won the race with the cancel
        [S.NEW, S.DONE_FOR_DAY, S.EXPIRED],
        [S.REJECTED],
    ],
)
def test_broker_lifecycles_are_accepted(path: list[S]) -> None:
    fsm = OrderStateMachine()
    fsm.start("a")
    assert all(fsm.apply("a", s) for s in path)
    assert fsm.status["a"] is path[-1] and not fsm.refused


@pytest.mark.parametrize(
    ("before", "after"),
    [(S.FILLED, S.NEW), (S.CANCELED, S.PARTIALLY_FILLED), (S.REJECTED, S.NEW),
     (S.REPLACED, S.FILLED), (S.NEW, S.PENDING_NEW), (S.EXPIRED, S.CANCELED)],
)  # fmt: skip
def test_illegal_transitions_are_refused_and_logged(before: S, after: S) -> None:
    fsm = OrderStateMachine()
    fsm.adopt("a", before)
    assert fsm.apply("a", after) is False
    assert fsm.status["a"] is before
    assert fsm.refused == {f"{before.value}->{after.value}": 1}


def test_terminal_states_have_no_way_out_and_every_status_is_covered() -> None:
    assert set(TRANSITIONS) == set(S)
    for s in S:
        if s.is_terminal:
            assert not any(is_legal(s, t) for t in S)


def test_a_client_order_id_can_start_only_once() -> None:
    fsm = OrderStateMachine()
    fsm.start("a")
    with pytest.raises(ValueError, match="reused"):
        fsm.start("a")


def test_client_order_ids_are_deterministic_unique_and_short() -> None:
    a = client_order_id("r1abcd", "premrev", "SQQQ", 12)
    assert a == "r1abcd-premrev-SQQQ-12" == client_order_id("r1abcd", "premrev", "SQQQ", 12)
    assert child_order_id(a, 3) == "r1abcd-premrev-SQQQ-12s3"
    long = client_order_id("x" * 16, "strategyname", "SYMBOLXYZ", 10**9)
    longer = client_order_id("x" * 16, "strategyname", "SYMBOLXYZ", 10**9 + 1)
    assert len(child_order_id(long, 999)) <= MAX_LEN and long != longer
