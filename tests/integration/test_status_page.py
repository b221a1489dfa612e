"""The status page as a person sees it, rendered by headless Chromium."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from pathlib import Path

import aiohttp
import pytest
from tests.kit.opskit import make_app, ops_of, running, write_config
from tests.kit.waits import until

from inavd.domain.events import TradingState

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian package 'chromium' is not installed"),
    pytest.mark.slow,
]


def _dump_dom(url: str, profile: Path) -> str:
    assert CHROMIUM is not None
    out = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=3000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        timeout=60,
        check=True,
    )
    return out.stdout.decode()


def _cells(dom: str, table_id: str) -> list[list[str]]:
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', dom, re.S)
    assert table, f"no table {table_id}"
    body = table.group(1).split("<tbody>", 1)[1]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


async def test_page_shows_fund_premiums_and_trading_state(tmp_path: Path) -> None:
    app = make_app(write_config(tmp_path, {"ops": {"enabled": True, "port": 0}}), serve=True)
    async with running(app):
        await until(lambda: app.core.closed, within=30)
        url = ops_of(app).url
        async with aiohttp.ClientSession() as s, s.get(url + "/status") as r:
            status = await r.json()
        dom = await asyncio.to_thread(_dump_dom, url + "/", tmp_path / "profile")

        state = re.search(r'<span id="trading-state" class="([^"]*)">([^<]*)</span>', dom)
        assert state and state.group(2) == "ACTIVE" and "active" in state.group(1)
        rows = {r[0]: r for r in _cells(dom, "funds")}
        assert set(rows) == {f["symbol"] for f in status["inav"]["funds"]}
        for f in status["inav"]["funds"]:
            if f["premium_bp"] is not None:
                assert rows[f["symbol"]][3] == f"{f['premium_bp']:.2f}"
        assert "ready" in dom and "1,163,786" in dom  # the summary line a person reads

        # the page refreshes from /status: a halt shows up without reloading the server side
        app.trading_state.set(TradingState.HALTED, "test halt")
        dom = await asyncio.to_thread(_dump_dom, url + "/", tmp_path / "profile2")
        state = re.search(r'<span id="trading-state" class="([^"]*)">([^<]*)</span>', dom)
        assert state and state.group(2) == "HALTED"
        assert "(test halt)" in dom
