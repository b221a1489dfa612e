"""Live quotes from Alpaca's stock stream (alpaca-py `StockDataStream`) as a QuoteFeed.

The stream runs as a task in the daemon's loop (never `stream.run()`, which starts its own loop).
Quotes are decoded here from raw msgpack dicts (`raw_data=True`) by a handler that never raises:
a bad message is counted and skipped, so the rest of its frame is kept. A watchdog reconnects a
connected-but-silent socket during market hours and holds readiness (and the trading gate) false
until data flows again. 402/409/405 end the feed with a clear error; 406 is retried with capped,
jittered backoff (Alpaca may hold a dropped connection for ~90 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import msgpack
import numpy as np
import structlog
from alpaca.data.enums import DataFeed
from alpaca.data.live.stock import StockDataStream

from inavd.domain.orders import OrderRequest
from inavd.domain.quotes import QuoteBatch
from inavd.errors import InavdError
from inavd.live_config import AlpacaSettings, Credentials, quiet_wire_loggers

log = structlog.get_logger(__name__)

FATAL_CODES = {
    402: "authentication failed: check APCA_API_KEY_ID / APCA_API_SECRET_KEY",
    409: "insufficient subscription for this feed (SIP needs a paid plan; use feed = 'iex')",
    405: "symbol limit exceeded for this plan: subscribe fewer funds and benchmarks",
}


class FeedFatalError(InavdError):
    """The market-data feed cannot work with this configuration; retrying would not help."""


@dataclass
class FeedStats:
    quotes: int = 0
    bad: int = 0  # malformed or unknown-symbol messages, skipped
    frames_ignored: int = 0
    connects: int = 0
    watchdog_fires: int = 0
    errors: dict[int, int] = field(default_factory=dict)  # stream error code → count


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

    async def _auth(self) -> None:
        await self._ws.send(  # type: ignore[attr-defined]
            msgpack.packb({"action": "auth", "key": self._api_key, "secret": self._secret_key})
        )
        msg = msgpack.unpackb(await self._ws.recv())  # type: ignore[attr-defined]
        first = msg[0] if isinstance(msg, list) and msg else {}
        if first.get("T") == "error":
            await self._owner._on_error(int(first.get("code", 0)), at_auth=True)
            raise ValueError(f"stream error {first.get('code')}: {first.get('msg')}")
        if first.get("T") != "success" or first.get("msg") != "authenticated":
            raise ValueError("failed to authenticate")
        self._owner._on_connected()

    async def _dispatch(self, msg: dict[str, Any]) -> None:
        kind = msg.get("T")
        if kind == "q":
            self._owner._on_quote(msg)
        elif kind == "error":
            await self._owner._on_error(int(msg.get("code", 0)), at_auth=False)
        elif kind == "subscription":
            self._owner._on_subscription(msg)

    def kill_socket(self) -> None:
        """Fail the socket at once (no closing handshake: the peer may be half dead)."""
        ws = self._ws
        if ws is not None:
            ws.transport.abort()


class AlpacaQuoteFeed:
    def __init__(
        self,
        index: dict[str, int],
        creds: Credentials,
        settings: AlpacaSettings,
        in_market_hours: Callable[[int], bool],
        batch_max: int = 8192,
    ) -> None:
        self.index = index
        self.settings = settings
        self.in_market_hours = in_market_hours
        self.batch_max = batch_max
        self.stats = FeedStats()
        self.ready = False
        self.fatal: FeedFatalError | None = None
        self.subscribed: tuple[str, ...] = ()
        self.last_data = time.monotonic()
        quiet_wire_loggers()
        self._stream = _Stream(self, creds, settings)
        self._stream.subscribe_quotes(self._handler, *index)  # before starting, never after
        self._wake = asyncio.Event()
        self._stopping = False
        self._cols: tuple[list[int], list[int], list[float], list[float], list[float], list[float]]
        self._reset()

    def describe(self) -> str:
        return f"alpaca {self.settings.feed} ({len(self.index)} symbols)"

    # ------------------------------------------------------------------ stream callbacks
    async def _handler(self, msg: Any) -> None:  # registered for the subscription only
        self._on_quote(msg)

    def _on_quote(self, m: dict[str, Any]) -> None:
        try:
            i = self.index[m["S"]]
            t = m["t"].to_unix_nano()
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
        self.last_data = time.monotonic()
        if not self.ready:
            self.ready = True
            log.info("market data flowing", feed=self.settings.feed)
        self._wake.set()

    def _on_connected(self) -> None:
        self.stats.connects += 1
        self.last_data = time.monotonic()
        log.info("market data connected", feed=self.settings.feed, connects=self.stats.connects)

    def _on_subscription(self, msg: dict[str, Any]) -> None:
        self.subscribed = tuple(msg.get("quotes", []))
        missing = set(self.index) - set(self.subscribed)
        if missing:
            log.warning("symbols not subscribed", symbols=sorted(missing))

    async def _on_error(self, code: int, at_auth: bool) -> None:
        self.stats.errors[code] = self.stats.errors.get(code, 0) + 1
        self.ready = False
        if code in FATAL_CODES:
            self.fatal = FeedFatalError(f"alpaca market data ({code}): {FATAL_CODES[code]}")
            log.error("market data failed", code=code, reason=FATAL_CODES[code])
            self._wake.set()
            await self._stream.stop_ws()
        elif code == 406:
            log.warning(
                "connection limit (406): another connection holds the slot, or Alpaca still"
                " holds a dropped one (up to ~90 s); backing off",
                half_dead_s=self.settings.half_dead_s,
            )
        else:
            log.error("market data error", code=code, at_auth=at_auth)

    # ------------------------------------------------------------------ consumer side
    def _reset(self) -> None:
        self._cols = ([], [], [], [], [], [])

    def _take(self) -> QuoteBatch:
        ts, sym, b, a, bs, as_ = self._cols
        self._reset()
        self.stats.quotes += len(ts)
        return QuoteBatch(
            np.array(ts, dtype=np.int64),
            np.array(sym, dtype=np.int32),
            np.array(b, dtype=np.float64),
            np.array(a, dtype=np.float64),
            np.array(bs, dtype=np.float64),
            np.array(as_, dtype=np.float64),
        )

    async def batches(self) -> AsyncIterator[QuoteBatch]:
        task = asyncio.create_task(self._stream._run_forever(), name="alpaca-market-data")
        task.add_done_callback(lambda _: self._wake.set())
        watchdog = asyncio.create_task(self._watchdog(), name="alpaca-feed-watchdog")
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

    async def _watchdog(self) -> None:
        tick = min(self.settings.silence_s / 4, 1.0)
        while True:
            await asyncio.sleep(tick)
            silent = time.monotonic() - self.last_data
            if silent < self.settings.silence_s or not self.in_market_hours(time.time_ns()):
                continue
            self.stats.watchdog_fires += 1
            self.ready = False
            log.warning("market data silent: reconnecting", silent_s=round(silent, 1))
            self.last_data = time.monotonic()  # one reconnect per silent period
            self._stream.kill_socket()

    def gate(self, req: OrderRequest) -> tuple[str, str] | None:
        """Router gate: no new orders while quotes are not flowing."""
        return None if self.ready else ("feed", "market data not ready")
