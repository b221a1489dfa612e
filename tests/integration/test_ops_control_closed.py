"""With no token configured the control endpoint is closed; the read-only ones still answer."""

from __future__ import annotations

import aiohttp
import pytest
from tests.kit.opskit import make_app, ops_of, running, write_config
from tests.kit.waits import until

from inavd.domain.events import TradingState
from inavd.ops.guard import NO_TOKEN

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


async def test_no_token_refuses_changes_and_keeps_reads(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INAVD_OPS__TOKEN", raising=False)
    cfg = write_config(tmp_path, {"ops": {"enabled": True, "port": 0}})  # type: ignore[arg-type]
    app = make_app(cfg, serve=True)
    async with running(app):
        await until(lambda: ops_of(app).port not in (None, 0), within=30)
        url = ops_of(app).url
        app.trading_state.set(TradingState.HALTED, "daily loss limit: P&L -5,100 USD")
        async with aiohttp.ClientSession() as s:
            for body in ({"state": "active"}, {"state": "reducing"}):
                async with s.post(url + "/trading-state", json=body) as r:
                    assert r.status == 403 and (await r.json()) == {"error": NO_TOKEN}
            assert app.trading_state.state is TradingState.HALTED
            for path in ("/healthz", "/status", "/"):
                async with s.get(url + path) as r:
                    assert r.status == 200, path
            async with s.get(url + "/status") as r:
                assert (await r.json())["trading_state"]["state"] == "halted"
