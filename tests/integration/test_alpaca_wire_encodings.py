"""Both market-data clients under both of Alpaca's encodings, handshake to quotes in the book.

The wire server negotiates like Alpaca (JSON text unless the handshake carries
`Content-Type: application/msgpack`); forcing JSON stands for a server or proxy that ignores
the request, which the clients must survive too.
"""

from __future__ import annotations

import aiohttp
import numpy as np
import pytest
import tests.integration.test_alpaca_feed as base
from tests.integration.test_alpaca_feed import SYMS, T0, Collector, frame, make_feed
from tests.integration.test_alpaca_feed import server as server  # the fixture
from tests.kit import alpaca_wire as wire
from tests.kit.alpaca_server import KEY, SECRET, AlpacaServer
from tests.kit.waits import until

from inavd.feeds.alpaca import AlpacaQuoteFeed
from inavd.feeds.alpaca_direct import AlpacaDirectQuoteFeed
from inavd.feeds.alpaca_json import parse_ns

CLIENTS = {"direct": AlpacaDirectQuoteFeed, "alpaca-py": AlpacaQuoteFeed}


@pytest.fixture(params=sorted(CLIENTS))
def client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(base, "FEED_CLS", CLIENTS[request.param])
    name: str = request.param
    return name


@pytest.mark.parametrize("mode", ["negotiate", "json", "msgpack"])
async def test_handshake_subscribe_and_quotes_in_every_encoding(
    server: AlpacaServer, client: str, mode: str
) -> None:
    server.md.encoding = mode  # type: ignore[assignment]
    c = Collector(make_feed(server))
    await server.wait_subscribed()
    # both clients ask for msgpack, so negotiation gives msgpack; forcing overrides it
    assert server.md.encodings == ["msgpack" if mode == "negotiate" else mode]
    assert server.md.subscriptions[0]["quotes"] == list(SYMS)
    await until(lambda: c.feed.subscribed == SYMS)  # the server's ack, read in its encoding
    bad_px = dict(wire.quote("SH", 1, 2, 1, 1, T0), bp="x")
    await server.push([*frame(2), bad_px, wire.trade("SPY", 100.0, 5, T0), *frame(2, start=2)])
    await server.push(frame(200, start=4), fragment=300)  # one message in several ws frames
    await c.wait_for(204)
    ts = np.concatenate([b.ts_ns for b in c.batches])
    assert ts.tolist() == [T0 + k * 1000 for k in range(204)]  # nanoseconds kept in JSON too
    i = c.book.index["SDS"]
    assert c.book.bid[i] == pytest.approx(100.0 + 203 * 0.01)  # quote 203 is SDS's latest
    assert c.feed.stats.bad == 1 and c.feed.stats.bad_frames == 0
    await c.close()


async def test_server_speaks_json_to_a_client_that_does_not_ask(server: AlpacaServer) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(server.data_url) as ws:
        hello = await ws.receive()
        assert hello.type is aiohttp.WSMsgType.TEXT
        assert hello.json() == [{"T": "success", "msg": "connected"}]
        await ws.send_json({"action": "auth", "key": KEY, "secret": SECRET})
        assert (await ws.receive()).json() == [{"T": "success", "msg": "authenticated"}]
        await ws.send_json({"action": "subscribe", "quotes": ["SPY"]})
        ack = (await ws.receive()).json()
        assert ack[0]["T"] == "subscription" and ack[0]["quotes"] == ["SPY"]
        await server.push([wire.quote("SPY", 500.1, 500.2, 3, 4, T0 + 123)])
        q = (await ws.receive()).json()[0]
        assert q["t"] == "2024-03-01T14:30:00.000000123Z" and q["bp"] == 500.1
    assert server.md.encodings == ["json"]


def test_rfc3339_parsing_keeps_nanoseconds_and_refuses_garbage() -> None:
    assert parse_ns("2024-03-01T14:30:00.000000123Z") == T0 + 123
    assert parse_ns("2024-03-01T14:30:00Z") == T0
    assert parse_ns("2024-03-01T09:30:00.5-05:00") == T0 + 500_000_000
    for bad in ("2024-03-01", "2024-03-01T14:30:00.Z", "2024-13-01T14:30:00Z",
                "2024-03-01T14:30:00.1234567890Z", "9999999-01-01T00:00:00Z", "x" * 30):
        with pytest.raises(ValueError):
            parse_ns(bad)
