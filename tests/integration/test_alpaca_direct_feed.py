"""The direct Alpaca market-data client against the local wire server.

Every behaviour test of the alpaca-py feed (tests/integration/test_alpaca_feed.py) runs here
again with the direct client swapped in; below them, what only the direct client does.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgpack
import numpy as np
import pytest
import tests.integration.test_alpaca_feed as base
from tests.integration.test_alpaca_feed import (  # noqa: F401  (collected here too)
    T0,
    Collector,
    frame,
    make_feed,
    test_auth_failures_are_fatal_without_retry,
    test_bad_message_is_skipped_and_rest_of_batch_kept,
    test_connection_limit_406_backs_off_then_connects,
    test_drop_reconnects_and_resubscribes,
    test_quotes_reach_the_book_including_fragmented_frames,
    test_silent_socket_fires_watchdog_within_threshold,
    test_symbol_limit_405_is_reported,
    test_wrong_key_is_402,
)
from tests.kit import alpaca_wire as wire
from tests.kit.alpaca_server import AlpacaServer

from inavd.feeds import alpaca_direct
from inavd.feeds.alpaca_common import backoff
from inavd.feeds.alpaca_direct import AlpacaDirectQuoteFeed
from inavd.feeds.alpaca_frames import FrameDecoder, timestamp_ns

server = base.server  # the fixture, shared


@pytest.fixture(autouse=True)
def direct_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(base, "FEED_CLS", AlpacaDirectQuoteFeed)
    yield


def test_the_direct_client_is_the_one_under_test(server: AlpacaServer) -> None:
    assert isinstance(make_feed(server), AlpacaDirectQuoteFeed)


def test_timestamp_forms_decode_to_exact_nanoseconds() -> None:
    for ns in (T0, T0 + 123, 1_700_000_000 * 10**9, -1_500_000_000):
        raw = msgpack.packb(msgpack.Timestamp.from_unix_nano(ns))
        assert timestamp_ns(raw) == ns, (ns, raw[:3])
    with pytest.raises(ValueError):
        timestamp_ns(msgpack.packb("2024-03-01T14:30:00Z"))
    # seconds past 34 bits (12-byte form) or past 2262 (8-byte form): no int64 ns exists
    for secs in (2**40, 2**34 - 1):
        with pytest.raises(ValueError, match="out of range"):
            timestamp_ns(msgpack.packb(msgpack.Timestamp(secs, 7)))


def test_frame_decoder_keeps_nanoseconds_and_mixed_timestamp_forms() -> None:
    d = FrameDecoder({"SPY": 0, "SH": 1})
    q1 = wire.quote("SPY", 500.1, 500.2, 3, 4, T0 + 123)  # 8-byte form
    q2 = wire.quote("SH", 12.5, 12.51, 100, 200, 1_700_000_000 * 10**9)  # 4-byte form
    out = d.decode(wire.pack([q1, q2, wire.trade("SPY", 500.15, 10, T0)]))
    assert out.batch is not None and out.bad == 0 and out.ignored == 1
    assert out.batch.ts_ns.tolist() == [T0 + 123, 1_700_000_000 * 10**9]
    assert out.batch.sym.tolist() == [0, 1]
    np.testing.assert_allclose(out.batch.bid, [500.1, 12.5])
    np.testing.assert_allclose(out.batch.ask_size, [4, 200])


def test_frame_decoder_counts_a_garbage_frame() -> None:
    out = FrameDecoder({"SPY": 0}).decode(b"\xc1garbage")
    assert out.batch is None and out.bad_frames == 1 and out.bad == 0


def test_backoff_is_capped_and_jittered() -> None:
    delays = backoff(0.1, 1.0)
    got = [next(delays) for _ in range(12)]
    assert all(0.05 <= d <= 1.0 for d in got)
    assert max(got[6:]) <= 1.0 and min(got[6:]) >= 0.5  # reached the cap: within [cap/2, cap]
    assert len(set(got)) > 6  # jittered, not one fixed delay


async def test_auth_and_subscribe_are_msgpack_and_name_the_universe(server: AlpacaServer) -> None:
    c = Collector(make_feed(server))
    await server.wait_subscribed()
    sub = server.md.subscriptions[0]  # the server only reads binary (msgpack) messages
    assert sub["action"] == "subscribe" and sub["quotes"] == list(base.SYMS)
    assert c.feed.subscribed == base.SYMS
    await server.push(frame(5))
    await c.wait_for(5)
    assert c.feed.stats.quotes == 5 and c.feed.stats.connects == 1
    await c.close()


async def test_stream_error_after_subscribe_is_counted_not_fatal(server: AlpacaServer) -> None:
    c = Collector(make_feed(server))
    await server.wait_subscribed()
    await server.push([wire.error(407), *frame(2)])  # slow client: reported, data kept
    await c.wait_for(2)
    assert c.feed.stats.errors == {407: 1}
    await c.close()


def test_default_url_follows_the_feed() -> None:
    from inavd.live_config import AlpacaSettings, Credentials

    f = AlpacaDirectQuoteFeed({"SPY": 0}, Credentials("k", "s"), AlpacaSettings(feed="sip"),
                              lambda _: True)
    assert f.url == alpaca_direct.DEFAULT_BASE + "sip"
    assert "k" not in repr(f.__dict__.get("_creds"))
