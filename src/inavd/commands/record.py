"""`inavd record`: write the live Alpaca quote stream to Parquet, one file per session day,
in the column layout the replay feed reads (`inavd replay --input FILE`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import structlog

from inavd.clock import NY
from inavd.domain.quotes import QuoteBatch
from inavd.errors import ConfigError
from inavd.logging import configure_logging
from inavd.settings import load_config
from inavd.universe import build_universe

log = structlog.get_logger(__name__)

SCHEMA = pa.schema(
    [
        ("ts", pa.int64()),
        ("symbol", pa.string()),
        ("bid", pa.float64()),
        ("ask", pa.float64()),
        ("bid_size", pa.float64()),
        ("ask_size", pa.float64()),
    ]
)


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "record", help="record the live Alpaca quote stream to Parquet (one file per day)"
    )
    p.add_argument("--config", type=Path, default=None, help="TOML config file")
    p.add_argument("--out", type=Path, default=Path("var/recordings"), help="output directory")
    p.add_argument("--duration", type=float, default=0.0, help="stop after S seconds (0: never)")
    p.add_argument("--max-quotes", type=int, default=0, help="stop after N quotes (0: never)")
    p.set_defaults(func=_record)


class DayWriter:
    """Appends batches to `<out>/quotes-<day>.parquet`, opening a new file when the day turns."""

    def __init__(self, out: Path, symbols: tuple[str, ...]) -> None:
        self.out = out
        self.names = np.array(symbols, dtype=object)
        self.day = ""
        self.writer: pq.ParquetWriter | None = None
        self.files: list[Path] = []
        self.rows = 0

    def write(self, batch: QuoteBatch) -> None:
        for day, part in _split_days(batch):
            if day != self.day:
                self.close()
                self.day = day
                path = self.out / f"quotes-{day}.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                self.writer = pq.ParquetWriter(path, SCHEMA, compression="zstd")
                self.files.append(path)
            assert self.writer is not None
            table = pa.table(
                {
                    "ts": part.ts_ns,
                    "symbol": self.names[part.sym].astype(str),
                    "bid": part.bid,
                    "ask": part.ask,
                    "bid_size": part.bid_size,
                    "ask_size": part.ask_size,
                },
                schema=SCHEMA,
            )
            self.writer.write_table(table)
            self.rows += len(part)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _split_days(batch: QuoteBatch) -> list[tuple[str, QuoteBatch]]:
    import pandas as pd

    days = pd.to_datetime(batch.ts_ns, utc=True).tz_convert(NY).strftime("%Y-%m-%d").to_numpy()
    out = []
    start = 0
    for k in range(1, len(days) + 1):
        if k == len(days) or days[k] != days[start]:
            out.append((str(days[start]), batch.slice(start, k)))
            start = k
    return out


async def record(cfg_path: Path | None, out: Path, duration: float, max_quotes: int) -> DayWriter:
    from inavd.adapters import make_feed

    cfg = load_config(cfg_path)
    if cfg.settings.feed.kind != "alpaca":
        feed_s = cfg.settings.feed.model_copy(update={"kind": "alpaca"})
        cfg = cfg.model_copy(update={"settings": cfg.settings.model_copy(update={"feed": feed_s})})
    universe = build_universe(cfg.universe, None)
    symbols = universe.symbols
    bundle = make_feed(cfg, {s: i for i, s in enumerate(symbols)}, symbols)
    feed: Any = bundle.feed
    writer = DayWriter(out, symbols)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(feed.stop()))
    deadline = time.monotonic() + duration if duration > 0 else float("inf")
    log.info("recording", feed=feed.describe(), out=str(out))
    try:
        async with asyncio.timeout(duration if duration > 0 else None):
            async for batch in feed.batches():
                writer.write(batch)
                if (max_quotes and writer.rows >= max_quotes) or time.monotonic() > deadline:
                    break
    except TimeoutError:
        pass
    finally:
        writer.close()
    log.info("recorded", quotes=writer.rows, files=[str(f) for f in writer.files])
    return writer


def _record(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    configure_logging(cfg.settings.run.log_level)
    if args.duration < 0 or args.max_quotes < 0:
        raise ConfigError("--duration and --max-quotes must be >= 0")
    writer = asyncio.run(record(args.config, args.out, args.duration, args.max_quotes))
    for f in writer.files:
        print(f)
    return 0
