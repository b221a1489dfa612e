"""The daemon as a user runs it: `inavd run` started from an empty folder with the minimal Alpaca
config (feed, broker, the [alpaca] endpoints, reference from Alpaca; everything else from the
embedded default), against the local Alpaca in JSON and in msgpack, with both market-data
clients. Quotes arrive, the default strategies place orders, `/status` shows the server's
positions — through a data drop, a silent spell, a 429 burst and a malformed frame every
second — and the process never exits until it is told to (SIGTERM, exit 0)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from tests.kit import alpaca_wire as wire
from tests.kit.alpaca_server import KEY, SECRET, AlpacaServer, Fault
from tests.kit.market_time import TIMESHIFT_PATH, session_shift
from tests.kit.waits import until

from inavd.calendar import previous_session_day
from inavd.clock import ns_to_ny

PRIOR = {"SPY": 500.0, "SDS": 20.0}  # SDS is -2x SPY: with SPY flat its iNAV stays 20.00
AT_PAR = 20.0  # SDS mids
CHEAP = 19.8  # 100 bp under its iNAV: premium_reversion buys


@pytest.fixture
async def server() -> AsyncIterator[AlpacaServer]:
    s = await AlpacaServer().start()
    yield s
    await s.stop()


def minimal_config(path: Path, server: AlpacaServer, client: str) -> Path:
    path.write_text(f"""\
[feed]
kind = "alpaca"

[broker]
kind = "alpaca"

[alpaca]
stream_client = "{client}"
data_url = "{server.data_url}"
data_rest_url = "{server.base}"
trading_url = "{server.base}"
trade_stream_url = "{server.trade_stream_url}"
silence_s = 1.0
backoff_min_s = 0.05
backoff_max_s = 0.3

[reference]
source = "alpaca"
""")
    return path


class Daemon:
    """`inavd run` in a child process whose wall clock is shifted into the next session."""

    def __init__(self, tmp: Path, cfg: Path, shift: int) -> None:
        self.cwd = tmp / "empty"
        self.cwd.mkdir()
        self.err = tmp / "stderr.log"
        env = {
            **os.environ,
            "APCA_API_KEY_ID": KEY, "APCA_API_SECRET_KEY": SECRET,
            "TIMESHIFT_NS": str(shift),
            "PYTHONPATH": os.pathsep.join([str(TIMESHIFT_PATH), os.environ.get("PYTHONPATH", "")]),
            "INAVD_OPS__PORT": "0",  # on by default for a live feed; any free port here
            "INAVD_INAV__INTERVAL_S": "0.2",  # seconds of test, not 15 s per evaluation
        }  # fmt: skip
        env.pop("INAVD_CONFIG", None)
        with self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "inavd", "run", "--config", str(cfg)],
                cwd=self.cwd, env=env, stdout=subprocess.DEVNULL, stderr=err,
            )  # fmt: skip
        self.url = ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    async def ops_url(self) -> str:
        def found() -> bool:
            m = re.search(r'"url": "(http://127\.0\.0\.1:\d+)"', self.err.read_text())
            self.url = m.group(1) if m else ""
            return bool(self.url) or not self.alive()

        await until(found, within=60, step=0.1)
        assert self.alive(), self.err.read_text()[-3000:]
        return self.url

    async def get(self, path: str) -> str:
        async with aiohttp.ClientSession() as http, http.get(self.url + path) as r:
            return await r.text()

    async def status(self) -> dict[str, object]:
        doc: dict[str, object] = json.loads(await self.get("/status"))
        return doc

    async def stop(self) -> int:
        """SIGTERM, then wait without blocking the loop the local Alpaca runs on (the daemon's
        shutdown still talks to it)."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            await until(lambda: not self.alive(), within=30, step=0.05)
        finally:
            if self.alive():
                self.proc.kill()
        return self.proc.wait()


class Market:
    """Quotes for SPY and SDS stamped with the daemon's (shifted) clock; the venue's touch too."""

    def __init__(self, server: AlpacaServer, shift: int) -> None:
        self.server, self.shift = server, shift
        self.sds = AT_PAR
        self.pushed = 0
        self.k = 0

    async def tick(self, n: int = 1) -> None:
        now = time.time_ns() + self.shift
        msgs = []
        for j in range(n):
            self.k += 1
            half = 0.001 * (1 + self.k % 3)  # 1-3 bp wide: a spread history with some spread
            bid, ask = self.sds - half, self.sds + half
            msgs += [wire.quote("SPY", 499.99, 500.01, 5, 5, now + 2 * j),
                     wire.quote("SDS", bid, ask, 900, 900, now + 2 * j + 1)]
        self.pushed += await self.server.push(msgs) * len(msgs)
        await self.server.quote("SDS", bid, ask)
        await self.server.quote("SPY", 499.99, 500.01)

    async def garbage(self) -> None:
        await self.server.push_raw(b"\x91\x83\xa1T\xa1q\xa1S\xa3\xff\xfe\xfd" + b"\xc1")
        await self.server.push_raw("[" * 5000)


async def run_for(market: Market, daemon: Daemon, seconds: float, gap: float = 0.1) -> None:
    """Quotes every `gap` s, a malformed frame (binary and text) every second, daemon alive."""
    loop = asyncio.get_running_loop()
    end, next_bad = loop.time() + seconds, 0.0
    while loop.time() < end:
        assert daemon.alive(), daemon.err.read_text()[-3000:]
        await market.tick()
        if loop.time() >= next_bad:
            await market.garbage()
            next_bad = loop.time() + 1.0
        await asyncio.sleep(gap)


def server_positions(server: AlpacaServer) -> dict[str, float]:
    return {s: q for s, (q, _) in server.venue.positions.items() if q}


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["json", "msgpack"])
@pytest.mark.parametrize("client", ["direct", "alpaca-py"])
async def test_minimal_config_trades_from_an_empty_folder(
    tmp_path: Path, server: AlpacaServer, client: str, encoding: str
) -> None:
    server.md.encoding = encoding  # type: ignore[assignment]
    shift = session_shift(minutes_after_open=60)
    prev = previous_session_day(ns_to_ny(time.time_ns() + shift).date())
    for sym, close in PRIOR.items():
        server.set_prior_close(sym, close, prev)
    daemon = Daemon(tmp_path, minimal_config(tmp_path / "alpaca.toml", server, client), shift)
    market = Market(server, shift)
    try:
        await daemon.ops_url()
        await server.wait_subscribed(within=30)
        assert server.md.encodings[0] == encoding
        await market.tick(15)  # spread history for the gates
        await run_for(market, daemon, 1.0)
        await server.drop_market_data()  # a data drop: reconnect, resubscribe
        await server.wait_subscribed(2, within=10)
        await run_for(market, daemon, 1.0)
        await asyncio.sleep(1.6)  # a silent spell past silence_s: the watchdog reconnects
        await server.wait_subscribed(3, within=10)
        server.faults.append(Fault("POST", "/v2/orders", 429, count=3))  # a 429 burst
        market.sds = CHEAP
        await run_for(market, daemon, 1.0)
        await until(lambda: bool(server_positions(server)), within=20)
        assert [f.count for f in server.faults] == [0]  # the burst was met and retried
        await run_for(market, daemon, 1.5)
        status = await daemon.status()
        assert status["positions"] == server_positions(server)
        assert server_positions(server)["SDS"] > 0  # bought the discount
        assert status["orders"] >= 1 and status["feed"]["quotes"] > 50  # type: ignore[index]
        metrics = await daemon.get("/metrics")
        bad = re.search(r"^inavd_feed_bad_frames_total (\S+)", metrics, re.M)
        assert bad and float(bad.group(1)) >= 3
        assert daemon.alive()
    finally:
        code = await daemon.stop()
    tail = daemon.err.read_text()
    assert code == 0, tail[-3000:]
    assert "Traceback" not in tail
