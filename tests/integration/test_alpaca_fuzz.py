"""No frame can kill the feed: 10,000 hostile frames per client (half msgpack, half JSON) over the
wire server, with well-formed frames in between that must all reach the book."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import tests.integration.test_alpaca_feed as base
from tests.integration.test_alpaca_feed import SYMS, T0, Collector, make_feed
from tests.integration.test_alpaca_feed import server as server  # the fixture
from tests.kit import alpaca_wire as wire
from tests.kit import fuzz_frames
from tests.kit.alpaca_server import AlpacaServer
from tests.kit.waits import until

from inavd.feeds.alpaca import AlpacaQuoteFeed
from inavd.feeds.alpaca_direct import AlpacaDirectQuoteFeed
from inavd.feeds.alpaca_frames import FrameDecoder

FRAMES = 5_000  # per client and encoding: 10,000 per client
GOOD_EVERY = 50


@pytest.mark.parametrize("encoding", ["msgpack", "json"])
@pytest.mark.parametrize(
    "cls", [AlpacaDirectQuoteFeed, AlpacaQuoteFeed], ids=["direct", "alpaca-py"]
)
async def test_hostile_frames_never_kill_the_feed(
    server: AlpacaServer, monkeypatch: pytest.MonkeyPatch, cls: type, encoding: str
) -> None:
    monkeypatch.setattr(base, "FEED_CLS", cls)
    server.md.encoding = encoding  # type: ignore[assignment]
    c = Collector(make_feed(server, silence_s=60))
    await server.wait_subscribed()
    good_ts: list[int] = []
    for k, f in enumerate(fuzz_frames.frames(encoding, FRAMES, seed=10, syms=SYMS)):  # type: ignore[arg-type]
        assert await server.push_raw(f) == 1, f"connection lost at frame {k}"
        if k % GOOD_EVERY == 0:
            ts = T0 + k
            good_ts.append(ts)
            await server.push([wire.quote("SPY", 500.0, 500.01, 1, 1, ts)])
        if k % 200 == 0:
            await asyncio.sleep(0)  # let the client keep up
    await server.push([wire.quote("SH", 12.5, 12.51, 7, 8, T0 + 10**9)])  # the last word
    await until(lambda: c.n > 0 and bool(c.batches[-1].ts_ns[-1] == T0 + 10**9), within=30)
    assert not c.task.done(), "the feed died"
    feed = c.feed
    assert feed.fatal is None and feed.stats.connects == 1 and server.md.connects == 1
    got = set(np.concatenate([b.ts_ns for b in c.batches]).tolist())
    assert set(good_ts) <= got, "a well-formed frame was lost among the hostile ones"
    last = c.batches[-1]
    assert last.sym[-1] == c.book.index["SH"] and last.bid[-1] == pytest.approx(12.5)
    assert feed.stats.bad_frames > 200 and feed.stats.bad > 1000  # counted, not swallowed
    await c.close()


def test_the_decoder_survives_every_crafted_frame_and_counts_it() -> None:
    d = FrameDecoder({s: i for i, s in enumerate(SYMS)})
    frames = list(fuzz_frames.frames("msgpack", 2000, seed=3, syms=SYMS))
    outs = [d.decode(f) for f in frames if isinstance(f, bytes)]
    outs += [d.decode_json(f) for f in fuzz_frames.frames("json", 2000, seed=3, syms=SYMS)]
    assert len(outs) == 4000
    assert sum(o.bad_frames for o in outs) > 400
    for o in outs:  # whatever survived is a clean column set
        if o.batch is not None:
            assert o.batch.ts_ns.dtype == np.int64 and (o.batch.sym >= 0).all()
