"""Live quotes from Alpaca's market-data websocket, spoken directly (aiohttp + msgspec).

Alpaca's documented stock stream (v2): connect → `[{"T":"success","msg":"connected"}]` → send
`{"action":"auth",...}` → `authenticated` or an error (402/406/409...) → send `subscribe` →
`subscription` ack (or 405) → frames of quotes. Alpaca speaks JSON text unless the handshake
carries `Content-Type: application/msgpack`; we ask for msgpack (cheaper to decode) but read
whatever comes (binary = msgpack, text = JSON) and answer in the encoding the server chose.

The reader runs inside `batches()` itself: each frame is decoded by `FrameDecoder` straight into
one `QuoteBatch`, with no task, queue or awaited handler per message in between (alpaca-py's
per-message awaits capped it at ~0.2 × the bare decode rate). Behaviour matches `AlpacaQuoteFeed`:
bad messages counted and skipped, unreadable frames counted and skipped (never raised),
silent-feed watchdog, capped jittered backoff (406 and the ~90 s half-dead slot included),
402/405/409 end the feed with a clear error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping

import aiohttp
import msgspec
import structlog

from inavd.domain.quotes import QuoteBatch
from inavd.feeds.alpaca_common import FeedFatalError, FeedHealth, backoff
from inavd.feeds.alpaca_frames import Control, Decoded, Error, FrameDecoder, Subscription, Success
from inavd.live_config import AlpacaSettings, Credentials, quiet_wire_loggers

log = structlog.get_logger(__name__)

DEFAULT_BASE = "wss://stream.data.alpaca.markets/v2/"
HANDSHAKE_S = 10.0  # per handshake reply (connected / authenticated)
MSGPACK = {"Content-Type": "application/msgpack"}  # what Alpaca's own clients send


class _Retry(Exception):
    """This connection attempt failed in a way worth retrying (406, drop, timeout)."""


class AlpacaDirectQuoteFeed(FeedHealth):
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
        self.url = settings.data_url or DEFAULT_BASE + settings.feed
        self._creds = creds
        self._decoder = FrameDecoder(index)
        self._encode = msgspec.msgpack.Encoder().encode
        self._text = False  # the server answered in JSON text frames on this connection
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._stopping = False
        self._connected_once = False  # a connection got authenticated since the last pause
        self._wake = asyncio.Event()
        quiet_wire_loggers()

    def describe(self) -> str:
        return f"{super().describe()} direct"

    # ------------------------------------------------------------------ consumer side
    async def batches(self) -> AsyncIterator[QuoteBatch]:
        watchdog = asyncio.create_task(self._watchdog(self._kill), name="alpaca-feed-watchdog")
        delays = backoff(self.settings.backoff_min_s, self.settings.backoff_max_s)
        try:
            async with aiohttp.ClientSession() as http:
                while not self._stopping:
                    try:
                        async for batch in self._connection(http):
                            yield batch
                    except _Retry as e:
                        log.warning("market data connection failed", reason=str(e))
                    except (aiohttp.ClientError, OSError, TimeoutError) as e:
                        log.warning("market data connection failed", error=type(e).__name__)
                    if self._connected_once:  # it worked before: start the backoff afresh
                        delays = backoff(self.settings.backoff_min_s, self.settings.backoff_max_s)
                        self._connected_once = False
                    self.ready = False
                    await self._pause(delays)
        finally:
            watchdog.cancel()
            self.ready = False
            await self._close_ws()

    async def stop(self) -> None:
        """Ask `batches()` to end (it closes the socket)."""
        self._stopping = True
        self._wake.set()
        await self._close_ws()

    async def _pause(self, delays: Iterator[float]) -> None:
        if self._stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), next(delays))

    # ------------------------------------------------------------------ one connection
    async def _connection(self, http: aiohttp.ClientSession) -> AsyncIterator[QuoteBatch]:
        ws = await http.ws_connect(
            self.url, max_msg_size=0, autoping=True, timeout=_WS_TIMEOUT, headers=MSGPACK
        )
        self._ws = ws
        try:
            await self._handshake(ws)
            async for msg in ws:
                d = self._decoded(msg)  # pings are answered by aiohttp
                batch = None if d is None else self._frame(d)
                if batch is not None:
                    yield batch
            if not self._stopping:
                raise _Retry(f"socket closed ({ws.close_code})")
        finally:
            await ws.close()
            self._ws = None

    async def _handshake(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._text = False
        await self._expect(ws, "connected")
        auth = {"action": "auth", "key": self._creds.key_id, "secret": self._creds.secret_key}
        await self._send(ws, auth)
        await self._expect(ws, "authenticated")
        self._on_connected()
        self._connected_once = True
        await self._send(ws, {"action": "subscribe", "quotes": list(self.index)})

    async def _send(self, ws: aiohttp.ClientWebSocketResponse, msg: Mapping[str, object]) -> None:
        if self._text:
            await ws.send_str(msgspec.json.encode(msg).decode())
        else:
            await ws.send_bytes(self._encode(msg))

    async def _expect(self, ws: aiohttp.ClientWebSocketResponse, what: str) -> None:
        msg = await ws.receive(timeout=HANDSHAKE_S)
        decoded = self._decoded(msg)
        if decoded is None:
            raise _Retry(f"no {what} reply ({msg.type.name})")
        if what == "connected":
            self._text = msg.type is aiohttp.WSMsgType.TEXT  # the server's choice, for good
        for c in decoded.controls:
            if isinstance(c, Success) and c.msg == what:
                return
            self._control(c, at_auth=True)
        raise _Retry(f"unexpected reply while waiting for {what}")

    def _decoded(self, msg: aiohttp.WSMessage) -> Decoded | None:
        if msg.type is aiohttp.WSMsgType.BINARY:
            return self._decoder.decode(msg.data)
        if msg.type is aiohttp.WSMsgType.TEXT:
            return self._decoder.decode_json(msg.data)
        return None

    def _frame(self, d: Decoded) -> QuoteBatch | None:
        if d.bad_frames:
            self._bad_frame(d.reason)
        self.stats.bad += d.bad
        self.stats.frames_ignored += d.ignored
        for c in d.controls:
            self._control(c, at_auth=False)
        if d.batch is None or not len(d.batch):
            return None
        self.stats.quotes += len(d.batch)
        self._data_flowing()
        return d.batch

    def _control(self, c: Control, at_auth: bool) -> None:
        if isinstance(c, Subscription):
            self._on_subscribed(c.quotes)
        elif isinstance(c, Error):
            fatal = self._record_error(c.code, at_auth)
            if fatal is not None:
                raise fatal
            if at_auth:
                raise _Retry(f"stream error {c.code}: {c.msg}")

    # ------------------------------------------------------------------ socket control
    def _kill(self) -> None:
        """Fail the socket at once (no closing handshake: the peer may be half dead)."""
        ws = self._ws
        conn = getattr(ws, "_conn", None)  # aiohttp has no public abort for a client websocket
        transport = getattr(conn, "transport", None)
        if transport is not None:
            transport.abort()
        elif ws is not None:
            task = asyncio.ensure_future(ws.close())
            task.add_done_callback(lambda _: None)

    async def _close_ws(self) -> None:
        ws = self._ws
        if ws is not None and not ws.closed:
            try:
                await asyncio.wait_for(ws.close(), 2.0)
            except (TimeoutError, aiohttp.ClientError, OSError):
                self._kill()


_WS_TIMEOUT = aiohttp.ClientWSTimeout(ws_receive=None, ws_close=2.0)

__all__ = ["AlpacaDirectQuoteFeed", "FeedFatalError"]
