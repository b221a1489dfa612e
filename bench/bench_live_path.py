"""Live path: Alpaca-format msgpack frames (100 quotes each) from the local wire server through
each market-data client (alpaca-py's stream, and the direct aiohttp + msgspec client) into the
QuoteBook, side by side in one run, beside the bare msgpack-decode rate of the same frames.
Run from the repository root: `.venv/bin/python -m bench.bench_live_path`."""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import time

import msgpack
import msgspec
from tests.kit import alpaca_wire as wire
from tests.kit.alpaca_server import KEY, SECRET, AlpacaServer

from inavd.book.quote_book import QuoteBook
from inavd.feeds.alpaca import AlpacaQuoteFeed
from inavd.feeds.alpaca_direct import AlpacaDirectQuoteFeed
from inavd.live_config import AlpacaSettings, Credentials

SYMS = tuple(f"S{i:02d}" for i in range(20))
FRAMES, PER_FRAME, REPEATS = 3000, 100, 5
T0 = 1_709_303_400_000_000_000


def make_frames() -> list[bytes]:
    out = []
    for f in range(FRAMES):
        msgs = [
            wire.quote(SYMS[k % 20], 100 + k * 0.01, 100.02 + k * 0.01, 3, 4, T0 + f * 1000 + k)
            for k in range(PER_FRAME)
        ]
        out.append(wire.pack(msgs))
    return out


def bare_rate(frames: list[bytes]) -> float:
    t = time.perf_counter()
    n = sum(len(msgpack.unpackb(f)) for f in frames)
    return n / (time.perf_counter() - t)


def bare_msgspec_rate(frames: list[bytes]) -> float:
    dec = msgspec.msgpack.Decoder()
    t = time.perf_counter()
    n = sum(len(dec.decode(f)) for f in frames)
    return n / (time.perf_counter() - t)


Client = type[AlpacaQuoteFeed] | type[AlpacaDirectQuoteFeed]


async def adapter_rate(frames: list[bytes], cls: Client) -> float:
    server = await AlpacaServer().start()
    settings = AlpacaSettings(data_url=server.data_url, silence_s=60)
    feed = cls(
        {s: i for i, s in enumerate(SYMS)}, Credentials(KEY, SECRET), settings, lambda _: True
    )
    book = QuoteBook(SYMS)
    total = FRAMES * PER_FRAME
    got = 0
    done = asyncio.Event()
    started = 0.0

    async def consume() -> None:
        nonlocal got
        async for batch in feed.batches():
            book.apply(batch)
            got += len(batch)
            if got >= total:
                done.set()
                return

    task = asyncio.create_task(consume())
    await server.wait_subscribed()
    started = time.perf_counter()
    for f in frames:
        await server.push_raw(f)
    await asyncio.wait_for(done.wait(), 120)
    rate = got / (time.perf_counter() - started)
    await task
    await server.stop()
    return rate


def main() -> None:
    frames = make_frames()
    bare = statistics.median(bare_rate(frames) for _ in range(REPEATS))
    bare_ms = statistics.median(bare_msgspec_rate(frames) for _ in range(REPEATS))
    rates: dict[str, list[float]] = {"alpaca-py": [], "direct": []}
    for _ in range(REPEATS):  # interleaved so machine noise hits both clients alike
        rates["alpaca-py"].append(asyncio.run(adapter_rate(frames, AlpacaQuoteFeed)))
        rates["direct"].append(asyncio.run(adapter_rate(frames, AlpacaDirectQuoteFeed)))
    print(f"machine: {platform.platform()} {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"frames: {FRAMES} x {PER_FRAME} quotes, {REPEATS} repeats (medians), "
          "server in the same process")
    print(f"bare msgpack.unpackb:             {bare:12,.0f} quotes/s")
    print(f"bare msgspec decode (untyped):    {bare_ms:12,.0f} quotes/s")
    for name, rs in rates.items():
        live = statistics.median(rs)
        print(f"server → {name:9s} → book:     {live:12,.0f} quotes/s  "
              f"ratio/bare msgpack {live / bare:.3f}  (runs {min(rs):,.0f} … {max(rs):,.0f})")


if __name__ == "__main__":
    main()
