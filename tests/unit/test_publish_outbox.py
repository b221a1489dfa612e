"""The MQTT outbox conflates iNAV per fund and bounds the event queue; commands are verified."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from inavd.domain.events import InavEvaluated, OrderDenied, frozen_copy
from inavd.domain.orders import OrderRequest, Side
from inavd.publish.control import Rejected, Verifier, sign
from inavd.publish.outbox import Outbox
from inavd.publish.topics import Topics

T = Topics("p", "i")


def _inav(seq: int, prem: list[float]) -> InavEvaluated:
    a = frozen_copy(np.array(prem))
    return InavEvaluated(seq, ("SH", "SDS"), a, a, a, a, a, seq=seq)


def test_newest_inav_per_symbol_wins() -> None:
    ob = Outbox(T, maxsize=10)
    for seq in range(1, 6):
        ob.offer(_inav(seq, [seq * 1.0, -seq * 1.0]))
    batch = dict(ob.retained_batch())
    assert set(batch) == {"p/i/inav/SH", "p/i/inav/SDS"} and ob.conflated == 8
    body = orjson.loads(ob.encode_inav(batch["p/i/inav/SDS"]))
    assert body["seq"] == 5 and body["premium_bp"] == -5.0 and body["symbol"] == "SDS"
    ref = batch["p/i/inav/SH"]
    ob.offer(_inav(6, [6.0, np.nan]))  # arrives while the old one is being sent
    ob.sent_retained("p/i/inav/SH", ref)
    assert orjson.loads(ob.encode_inav(ob.latest["p/i/inav/SH"]))["seq"] == 6
    assert orjson.loads(ob.encode_inav(ob.latest["p/i/inav/SDS"]))["premium_bp"] is None


def test_event_queue_is_bounded_and_drops_the_oldest() -> None:
    ob = Outbox(T, maxsize=3)
    for n in range(5):
        req = OrderRequest(f"c{n}", "SH", Side.BUY, 1.0)
        ob.offer(OrderDenied(n, "halted", "trading halted", req))
    assert ob.dropped == 2
    sent = [ob.encode_event(ev) for ev in ob.events]
    assert [orjson.loads(p)["client_order_id"] for _, p in sent] == ["c2", "c3", "c4"]
    assert {t for t, _ in sent} == {"p/i/denials"}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{", "malformed"),
        (b"[1]", "malformed"),
        (orjson.dumps({"command": "halt", "ts": 100.0, "nonce": "a"}), "unsigned"),
        (sign("other", "p/i/control", "halt", "a", ts=100.0), "bad_signature"),
        (sign("k", "p/i/control", "explode", "a", ts=100.0), "unknown_command"),
        (sign("k", "p/i/control", "halt", "a", ts=10.0), "stale"),
    ],
)
def test_verifier_refuses(payload: bytes, reason: str) -> None:
    with pytest.raises(Rejected) as exc:
        Verifier("k", "p/i/control", max_skew_s=30).verify(payload, now=100.0)
    assert exc.value.reason == reason


def test_verifier_accepts_once() -> None:
    v = Verifier("k", "p/i/control", max_skew_s=30)
    cmd = v.verify(sign("k", "p/i/control", "reduce-only", "n1", ts=99.5), now=100.0)
    assert (cmd.command, cmd.nonce) == ("reduce-only", "n1")
    with pytest.raises(Rejected, match="replayed"):
        v.verify(sign("k", "p/i/control", "reduce-only", "n1", ts=99.5), now=100.0)
