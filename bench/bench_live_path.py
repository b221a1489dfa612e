"""Live path: Alpaca-format frames (100 quotes each) from the local wire server through each
market-data client (alpaca-py's stream, and the direct aiohttp + msgspec client) into the
QuoteBook, in both of Alpaca's encodings (msgpack binary frames, JSON text frames), side by side
in one run, beside the bare decode rate of the same frames (`msgpack.unpackb`, `json.loads`).
Run from the repository root: `.venv/bin/python -m bench.bench_live_path [repeats]`."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import msgpack
import msgspec
from tests.kit import alpaca_wire as wire
from tests.kit.alpaca_server import KEY, SECRET, AlpacaServer

from inavd.book.quote_book import QuoteBook
from inavd.feeds.alpaca import AlpacaQuoteFeed
from inavd.feeds.alpaca_direct import AlpacaDirectQuoteFeed
from inavd.live_config import AlpacaSettings, Credentials

SYMS = tuple(f"S{i:02d}" for i in range(20))
FRAMES, PER_FRAME = 3000, 100
T0 = 1_709_303_400_000_000_000
Frame = bytes | str


def make_frames(encoding: wire.Encoding) -> list[Frame]:
    out = []
    for f in range(FRAMES):
        msgs = [
            wire.quote(SYMS[k % 20], 100 + k * 0.01, 100.02 + k * 0.01, 3, 4, T0 + f * 1000 + k)
            for k in range(PER_FRAME)
        ]
        out.append(wire.encode(msgs, encoding))
    return out


def bare_rate(frames: list[Frame], decode: Callable[[Any], list[Any]]) -> float:
    t = time.perf_counter()
    n = sum(len(decode(f)) for f in frames)
    return n / (time.perf_counter() - t)


BARE: dict[str, tuple[wire.Encoding, Callable[[Any], list[Any]]]] = {
    "msgpack.unpackb": ("msgpack", msgpack.unpackb),
    "msgspec msgpack (untyped)": ("msgpack", msgspec.msgpack.Decoder().decode),
    "json.loads": ("json", json.loads),
    "msgspec json (untyped)": ("json", msgspec.json.Decoder().decode),
}


Client = type[AlpacaQuoteFeed] | type[AlpacaDirectQuoteFeed]


async def adapter_rate(frames: list[Frame], cls: Client, encoding: wire.Encoding) -> float:
    server = await AlpacaServer().start()
    server.md.encoding = encoding
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
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    frames = {e: make_frames(e) for e in ("msgpack", "json")}
    bare = {name: statistics.median(bare_rate(frames[enc], fn) for _ in range(repeats))
            for name, (enc, fn) in BARE.items()}
    clients: dict[str, Client] = {"alpaca-py": AlpacaQuoteFeed, "direct": AlpacaDirectQuoteFeed}
    rates: dict[tuple[str, wire.Encoding], list[float]] = {}
    for _ in range(repeats):  # interleaved so machine noise hits every client alike
        for enc in ("msgpack", "json"):
            for name, cls in clients.items():
                r = asyncio.run(adapter_rate(frames[enc], cls, enc))
                rates.setdefault((name, enc), []).append(r)
    print(f"machine: {platform.platform()} {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"frames: {FRAMES} x {PER_FRAME} quotes, {repeats} repeats (medians), "
          "server in the same process")
    for name, rate in bare.items():
        print(f"bare {name:28s} {rate:12,.0f} quotes/s")
    for (name, enc), rs in rates.items():
        live = statistics.median(rs)
        ref = bare["msgpack.unpackb" if enc == "msgpack" else "json.loads"]
        print(f"server → {name:9s} {enc:7s} → book: {live:12,.0f} quotes/s  "
              f"ratio/bare {live / ref:.3f}  (runs {min(rs):,.0f} … {max(rs):,.0f})")


if __name__ == "__main__":
    main()
