"""Readiness follows the feed: stale → 503 naming the feed check, fresh again → 200.
Liveness fails when a supervised task has failed for good."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from tests.kit.opskit import make_app, ops_of, running, write_config
from tests.kit.waits import until

from inavd.domain.quotes import QuoteBatch


class GatedFeed:
    """Real batches from the bundled session, released one at a time by the test."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.gate: asyncio.Queue[None] = asyncio.Queue()

    def describe(self) -> str:
        return f"gated {self.inner.describe()}"

    async def batches(self) -> AsyncIterator[QuoteBatch]:
        async for batch in self.inner.batches():
            await self.gate.get()
            yield batch


async def _status(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        return r.status, await r.json()


@pytest.mark.slow
async def test_readiness_flips_with_feed_freshness(tmp_path: Path) -> None:
    ops = {"enabled": True, "port": 0, "feed_stale_s": 0.4}
    app = make_app(write_config(tmp_path, {"ops": ops}))
    feed = GatedFeed(app.feed)
    app.feed = feed
    async with running(app):
        await until(lambda: ops_of(app).port is not None, within=10)
        url = ops_of(app).url + "/readyz"
        code, body = await _status(url)
        assert code == 503 and body["checks"]["feed"] == {
            "ok": False,
            "detail": "no quotes received yet",
        }
        assert body["checks"]["broker"]["ok"] and body["checks"]["journal"]["ok"]

        feed.gate.put_nowait(None)
        await until(lambda: app.core.quotes > 0)
        code, body = await _status(url)
        assert code == 200 and body["ready"] is True

        await asyncio.sleep(0.6)  # no quotes for longer than feed_stale_s
        code, body = await _status(url)
        assert code == 503 and body["ready"] is False
        assert body["checks"]["feed"]["detail"].startswith("stale")

        before = app.core.quotes
        feed.gate.put_nowait(None)  # the feed recovers
        await until(lambda: app.core.quotes > before)
        code, body = await _status(url)
        assert code == 200 and body["checks"]["feed"]["ok"] is True

        health = await _status(ops_of(app).url + "/healthz")
        assert health[0] == 200

        async def broken() -> None:
            raise RuntimeError("disk on fire")

        app.supervisor.spawn("doomed", broken, restart=False)
        await until(lambda: "doomed" in app.supervisor.failed)
        code, body = await _status(ops_of(app).url + "/healthz")
        assert code == 503 and body["failed_tasks"] == {"doomed": "RuntimeError: disk on fire"}
