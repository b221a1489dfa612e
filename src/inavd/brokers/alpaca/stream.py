"""trade_updates over alpaca-py's TradingStream, with callbacks when it is (de)authorised."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from alpaca.trading.stream import TradingStream

from inavd.live_config import AlpacaSettings, Credentials

UpdateHandler = Callable[[dict[str, Any]], Awaitable[None]]


class TradeUpdates(TradingStream):
    """alpaca-py's stream (raw dicts) that reports authorisation and disconnects to its owner."""

    def __init__(
        self,
        creds: Credentials,
        s: AlpacaSettings,
        on_authorized: Callable[[], None],
        on_lost: Callable[[], None],
    ) -> None:
        super().__init__(
            creds.key_id,
            creds.secret_key,
            paper=s.paper,
            raw_data=True,
            url_override=s.trade_stream_url or None,  # type: ignore[arg-type]
        )
        self._reconnect_min_backoff = s.backoff_min_s
        self._reconnect_max_backoff = s.backoff_max_s
        self._on_authorized = on_authorized
        self._on_lost = on_lost
        self.authorized = False

    async def _auth(self) -> None:
        await self._ws.send(  # type: ignore[attr-defined]
            json.dumps(
                {
                    "action": "authenticate",
                    "data": {"key_id": self._api_key, "secret_key": self._secret_key},
                }
            )
        )
        msg = json.loads(await self._ws.recv())  # type: ignore[attr-defined]
        if (msg.get("data") or {}).get("status") != "authorized":
            raise ValueError("trade stream: not authorized")
        self.authorized = True
        self._on_authorized()

    async def close(self) -> None:
        if self.authorized:
            self.authorized = False
            self._on_lost()
        await super().close()
