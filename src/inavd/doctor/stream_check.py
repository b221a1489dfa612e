"""Doctor's check of the market-data subscription: connect, authenticate and subscribe the
universe's quotes the way the daemon will, and read Alpaca's answer.

Alpaca has no REST call that names the data plan; its stream says it: 409 insufficient
subscription (SIP on a basic plan), 405 symbol limit exceeded (the free IEX plan allows about 30
symbols), 402 wrong keys, 406 another connection already uses these keys. The probe speaks msgpack,
as the daemon's clients do, and reads JSON text frames too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import aiohttp
import msgspec

from inavd.doctor.report import Check, fail, ok
from inavd.live_config import KEY_ENV, SECRET_ENV, AlpacaSettings, Credentials

DEFAULT_BASE = "wss://stream.data.alpaca.markets/v2/"
IEX_SYMBOL_LIMIT = 30  # Alpaca's free plan, for the message only: the stream's answer decides
ADVICE = {
    402: f"keys refused: check {KEY_ENV} and {SECRET_ENV}",
    405: "symbol limit exceeded",
    406: "connection limit: another client (a running daemon?) streams with these keys",
    409: "insufficient subscription for this feed",
}
_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder()


def url_for(s: AlpacaSettings) -> str:
    return s.data_url or DEFAULT_BASE + s.feed


async def data_feed(
    creds: Credentials, s: AlpacaSettings, symbols: Sequence[str], timeout_s: float
) -> Check:
    name = f"data feed ({s.feed})"
    try:
        async with asyncio.timeout(timeout_s):
            return await _probe(name, creds, url_for(s), symbols, s.feed)
    except TimeoutError:
        return fail(name, f"no answer within {timeout_s:g} s")
    except (aiohttp.ClientError, OSError) as exc:
        return fail(name, f"unreachable: {type(exc).__name__}")


async def _probe(
    name: str, creds: Credentials, url: str, symbols: Sequence[str], feed: str
) -> Check:
    headers = {"Content-Type": "application/msgpack"}
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url, headers=headers, autoping=True) as ws,
    ):
        await _expect(ws, "connected")
        await ws.send_bytes(_encoder.encode({"action": "auth", "key": creds.key_id,
                                             "secret": creds.secret_key}))  # fmt: skip
        reply = await _expect(ws, "authenticated")
        if reply is not None:
            return _refused(name, reply, feed, len(symbols))
        await ws.send_bytes(_encoder.encode({"action": "subscribe", "quotes": list(symbols)}))
        reply = await _expect(ws, "subscription")
        if reply is not None:
            return _refused(name, reply, feed, len(symbols))
    return ok(name, f"authenticated, {len(symbols)} symbols subscribed")


async def _expect(ws: aiohttp.ClientWebSocketResponse, what: str) -> dict[str, Any] | None:
    """Read until the control message `what` (None) or an error (the error message)."""
    while True:
        msg = await ws.receive()
        if msg.type is aiohttp.WSMsgType.BINARY:
            items = _decoder.decode(msg.data)
        elif msg.type is aiohttp.WSMsgType.TEXT:
            items = msgspec.json.decode(msg.data)
        else:
            raise aiohttp.ClientConnectionError(f"stream closed ({msg.type.name})")
        for m in items if isinstance(items, list) else [items]:
            if not isinstance(m, dict):
                continue
            if m.get("T") == "error":
                return m
            if m.get("T") == "subscription" and what == "subscription":
                return None
            if m.get("T") == "success" and m.get("msg") == what:
                return None


def _refused(name: str, err: dict[str, Any], feed: str, n: int) -> Check:
    code = err.get("code")
    text = ADVICE.get(code, str(err.get("msg", "error"))) if isinstance(code, int) else "error"
    if code == 405:
        plan = f" (the free IEX plan allows {IEX_SYMBOL_LIMIT})" if feed == "iex" else ""
        text += f": the universe has {n} symbols{plan}"
    elif code == 409 and feed == "sip":
        text += ': SIP needs a paid plan; set alpaca.feed = "iex"'
    return fail(name, f"{code} {text}")
