"""What both Alpaca market-data clients share: error kinds, stats, readiness, watchdog, backoff."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterator

import msgspec
import structlog

from inavd.domain.orders import OrderRequest
from inavd.errors import InavdError
from inavd.live_config import AlpacaSettings

log = structlog.get_logger("inavd.feeds.alpaca")

BAD_FRAME_LOG_S = 10.0  # at most one "frame dropped" line this often

FATAL_CODES = {
    402: "authentication failed: check APCA_API_KEY_ID / APCA_API_SECRET_KEY",
    409: "insufficient subscription for this feed (SIP needs a paid plan; use feed = 'iex')",
    405: "symbol limit exceeded for this plan: subscribe fewer funds and benchmarks",
}


class FeedFatalError(InavdError):
    """The market-data feed cannot work with this configuration; retrying would not help."""


class FeedStats(msgspec.Struct):
    quotes: int = 0
    bad: int = 0  # malformed or unknown-symbol messages, skipped
    bad_frames: int = 0  # frames that could not be read at all, skipped
    frames_ignored: int = 0
    connects: int = 0
    watchdog_fires: int = 0
    errors: dict[int, int] = msgspec.field(default_factory=dict)  # stream error code → count


def backoff(min_s: float, max_s: float) -> Iterator[float]:
    """Capped exponential delays with full jitter in [d/2, d] (never a tight loop)."""
    d = min_s
    while True:
        yield random.uniform(d / 2, d)
        d = min(d * 2, max_s)


class FeedHealth:
    """Readiness, error accounting, the silent-feed watchdog and the router gate."""

    def __init__(self, index: dict[str, int], settings: AlpacaSettings,
                 in_market_hours: Callable[[int], bool]) -> None:
        self.index = index
        self.settings = settings
        self.in_market_hours = in_market_hours
        self.stats = FeedStats()
        self.ready = False
        self.fatal: FeedFatalError | None = None
        self.subscribed: tuple[str, ...] = ()
        self.last_data = time.monotonic()
        self._bad_logged_at = -BAD_FRAME_LOG_S
        self._bad_logged_count = 0

    def describe(self) -> str:
        return f"alpaca {self.settings.feed} ({len(self.index)} symbols)"

    def _data_flowing(self) -> None:
        self.last_data = time.monotonic()
        if not self.ready:
            self.ready = True
            log.info("market data flowing", feed=self.settings.feed)

    def _bad_frame(self, reason: str) -> None:
        """Count an unreadable frame; log at most one line per `BAD_FRAME_LOG_S` (a peer sending
        garbage on every frame must not flood the log)."""
        self.stats.bad_frames += 1
        now = time.monotonic()
        if now - self._bad_logged_at >= BAD_FRAME_LOG_S:
            log.warning(
                "market data frame dropped: cannot be decoded",
                reason=reason,
                dropped_since_last_line=self.stats.bad_frames - self._bad_logged_count,
                dropped_total=self.stats.bad_frames,
            )
            self._bad_logged_at = now
            self._bad_logged_count = self.stats.bad_frames

    def _on_connected(self) -> None:
        self.stats.connects += 1
        self.last_data = time.monotonic()
        log.info("market data connected", feed=self.settings.feed, connects=self.stats.connects)

    def _on_subscribed(self, quotes: list[str]) -> None:
        self.subscribed = tuple(quotes)
        missing = set(self.index) - set(self.subscribed)
        if missing:
            log.warning("symbols not subscribed", symbols=sorted(missing))

    def _record_error(self, code: int, at_auth: bool) -> FeedFatalError | None:
        """Count and log a stream error; returns the fatal error for 402/405/409."""
        self.stats.errors[code] = self.stats.errors.get(code, 0) + 1
        self.ready = False
        if code in FATAL_CODES:
            self.fatal = FeedFatalError(f"alpaca market data ({code}): {FATAL_CODES[code]}")
            log.error("market data failed", code=code, reason=FATAL_CODES[code])
            return self.fatal
        if code == 406:
            log.warning(
                "connection limit (406): another connection holds the slot, or Alpaca still"
                " holds a dropped one (up to ~90 s); backing off",
                half_dead_s=self.settings.half_dead_s,
            )
        else:
            log.error("market data error", code=code, at_auth=at_auth)
        return None

    async def _watchdog(self, kill: Callable[[], None]) -> None:
        """Reconnect (via `kill`) a socket that is connected but silent during market hours."""
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
            kill()

    def gate(self, req: OrderRequest) -> tuple[str, str] | None:
        """Router gate: no new orders while quotes are not flowing."""
        return None if self.ready else ("feed", "market data not ready")
