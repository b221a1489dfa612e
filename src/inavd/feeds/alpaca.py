"""Live quotes from Alpaca's stock stream (alpaca-py `StockDataStream`) as a QuoteFeed.

The stream runs as a task in the daemon's loop (never `stream.run()`, which starts its own loop).
alpaca-py asks for msgpack and assumes every frame is msgpack: one frame it cannot unpack (invalid
UTF-8, nesting too deep, a JSON text frame) escapes its reader. So the connect, auth and read
steps are ours: frames in either encoding, an unreadable frame counted and skipped. Quotes are
decoded from the raw dicts (`raw_data=True`) by a handler that never raises: a bad message is
counted and skipped, so the rest of its frame is kept. A watchdog reconnects a
connected-but-silent socket during market hours and holds readiness (and the trading gate) false
until data flows again. 402/409/405 end the feed with a clear error; 406 is retried with capped,
jittered backoff (Alpaca may hold a dropped connection for ~90 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgpack
from alpaca.common.utils import get_default_user_agent
from alpaca.data.enums import DataFeed
from alpaca.data.live.stock import StockDataStream
from websockets.legacy import client as websockets_legacy

from inavd.domain.quotes import QuoteBatch
from inavd.feeds.alpaca_common import FeedFatalError, FeedHealth, FeedStats
from inavd.feeds.alpaca_json import parse_ns
from inavd.live_config import AlpacaSettings, Credentials, quiet_wire_loggers

__all__ = ["AlpacaQuoteFeed", "FeedFatalError", "FeedStats"]


class _Stream(StockDataStream):
    """alpaca-py's stream with our auth (to see error codes) and a non-raising dispatch."""

    def __init__(self, owner: AlpacaQuoteFeed, creds: Credentials, s: AlpacaSettings) -> None:
        super().__init__(
            creds.key_id,
            creds.secret_key,
            raw_data=True,
            feed=DataFeed.SIP if s.feed == "sip" else DataFeed.IEX,
            url_override=s.data_url or None,
        )
        self._owner = owner
        self._reconnect_min_backoff = s.backoff_min_s
        self._reconnect_max_backoff = s.backoff_max_s
        self._text = False  # the server answered in JSON text frames on this connection

    async def _connect(self) -> None:
        params: dict[str, Any] = dict(self._websocket_params or {})
        headers = {
            **dict(params.pop("extra_headers", {}) or {}),
            "Content-Type": "application/msgpack",
            "User-Agent": get_default_user_agent(),
        }
        ws = await websockets_legacy.connect(self._endpoint, extra_headers=headers, **params)
        self._ws = ws  # type: ignore[assignment]  # alpaca-py declares it None
        first = await ws.recv()
        self._text = isinstance(first, str)
        if _first(first).get("msg") != "connected":
            raise ValueError("connected message not received")

    async def _send(self, msg: dict[str, Any]) -> None:
        data = json.dumps(msg) if self._text else msgpack.packb(msg)
        await self._ws.send(data)  # type: ignore[attr-defined]

    async def _send_subscribe_msg(self) -> None:
        if not self._text:
            await super()._send_subscribe_msg()
            return
        await self._send({"action": "subscribe", "quotes": list(self._handlers["quotes"])})

    async def _auth(self) -> None:
        await self._send({"action": "auth", "key": self._api_key, "secret": self._secret_key})
        first = _first(await self._ws.recv())  # type: ignore[attr-defined]
        if first.get("T") == "error":
            await self._owner._on_error(int(first.get("code", 0)), at_auth=True)
            raise ValueError(f"stream error {first.get('code')}: {first.get('msg')}")
        if first.get("T") != "success" or first.get("msg") != "authenticated":
            raise ValueError("failed to authenticate")
        self._owner._on_connected()

    async def _consume(self) -> bool:
        """alpaca-py's reader, with decoding that cannot raise (see `AlpacaQuoteFeed._messages`)."""
        while True:
            if not self._stop_stream_queue.empty():
                self._stop_stream_queue.get(timeout=1)
                await self.close()
                return False
            try:
                r = await asyncio.wait_for(self._ws.recv(), 5.0)  # type: ignore[attr-defined]
            except TimeoutError:
                continue  # look at the stop queue again
            for msg in self._owner._messages(r):
                await self._dispatch(msg)

    async def _dispatch(self, msg: dict[str, Any]) -> None:
        kind = msg.get("T")
        if kind == "q":
            self._owner._on_quote(msg)
        elif kind == "error":
            await self._owner._on_error(int(msg.get("code", 0)), at_auth=False)
        elif kind == "subscription":
            self._owner._on_subscribed(list(msg.get("quotes", [])))

    def kill_socket(self) -> None:
        """Fail the socket at once (no closing handshake: the peer may be half dead)."""
        ws = self._ws
        if ws is not None:
            ws.transport.abort()


class AlpacaQuoteFeed(FeedHealth):
    def __init__(
        self,
        index: dict[str, int],
        creds: Credentials,
        settings: AlpacaSettings,
        in_market_hours: Callable[[int], bool],
        batch_max: int = 8192,
    ) -> None:
        super().__init__(index, settings, in_market_hours)
        self.batch_max = batch_max
        quiet_wire_loggers()
        self._stream = _Stream(self, creds, settings)
        self._stream.subscribe_quotes(self._handler, *index)  # before starting, never after
        self._wake = asyncio.Event()
        self._stopping = False
        self._cols: tuple[list[int], list[int], list[float], list[float], list[float], list[float]]
        self._reset()

    # ------------------------------------------------------------------ stream callbacks
    async def _handler(self, msg: Any) -> None:  # registered for the subscription only
        self._on_quote(msg)

    def _messages(self, r: bytes | str) -> list[dict[str, Any]]:
        """One frame's messages; an unreadable frame is counted and skipped, never raised."""
        try:
            msgs = json.loads(r) if isinstance(r, str) else msgpack.unpackb(r)
        except Exception as exc:
            self._bad_frame(type(exc).__name__)
            return []
        if not isinstance(msgs, list):
            self._bad_frame(f"not an array ({type(msgs).__name__})")
            return []
        good = [m for m in msgs if isinstance(m, dict)]
        self.stats.bad += len(msgs) - len(good)
        return good

    def _on_quote(self, m: dict[str, Any]) -> None:
        try:
            i = self.index[m["S"]]
            t = m["t"]
            t = parse_ns(t) if self._stream._text else t.to_unix_nano()  # RFC 3339 in JSON
            if not -(2**63) < t < 2**63:
                raise OverflowError("timestamp out of range")
            bid, ask = float(m["bp"]), float(m["ap"])
            bs, as_ = float(m["bs"]), float(m["as"])
        except Exception:  # never raise into alpaca-py: it would drop the rest of the frame
            self.stats.bad += 1
            return
        ts, sym, b, a, bsz, asz = self._cols
        ts.append(t)
        sym.append(i)
        b.append(bid)
        a.append(ask)
        bsz.append(bs)
        asz.append(as_)
        self._data_flowing()
        self._wake.set()

    async def _on_error(self, code: int, at_auth: bool) -> None:
        if self._record_error(code, at_auth) is not None:
            self._wake.set()
            await self._stream.stop_ws()

    # ------------------------------------------------------------------ consumer side
    def _reset(self) -> None:
        self._cols = ([], [], [], [], [], [])

    def _take(self) -> QuoteBatch:
        ts, sym, b, a, bs, as_ = self._cols
        self._reset()
        self.stats.quotes += len(ts)
        return QuoteBatch.of(ts, sym, b, a, bs, as_)

    async def batches(self) -> AsyncIterator[QuoteBatch]:
        task = asyncio.create_task(self._stream._run_forever(), name="alpaca-market-data")
        task.add_done_callback(lambda _: self._wake.set())
        watchdog = asyncio.create_task(
            self._watchdog(self._stream.kill_socket), name="alpaca-feed-watchdog"
        )
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                if self._cols[0]:
                    yield self._take()
                if self.fatal is not None:
                    raise self.fatal
                if self._stopping or task.done():
                    return
        finally:
            watchdog.cancel()
            await self._shutdown(task)

    async def stop(self) -> None:
        """Ask `batches()` to end (it then closes the stream)."""
        self._stopping = True
        self._wake.set()

    async def _shutdown(self, task: asyncio.Task[None]) -> None:
        self.ready = False
        await self._stream.stop_ws()
        await self._stream.close()  # wakes the reader now instead of after its 5 s poll
        with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError, Exception):
            await asyncio.wait_for(task, 2.0)
        if not task.done():
            task.cancel()


def _first(r: bytes | str) -> dict[str, Any]:
    """The first message of a handshake reply in either encoding ({} if there is none)."""
    try:
        msgs = json.loads(r) if isinstance(r, str) else msgpack.unpackb(r)
    except Exception:
        return {}
    first = msgs[0] if isinstance(msgs, list) and msgs else {}
    return first if isinstance(first, dict) else {}
