"""Replay of a recorded quote file (CSV or Parquet), one session day at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

from inavd.domain.quotes import QuoteBatch
from inavd.errors import DataError
from inavd.feeds.quote_file import CHUNK_ROWS, QuoteFile


class ArrayFeed:
    """A feed over quotes already in memory (synthetic sessions, tests)."""

    def __init__(self, data: QuoteBatch, label: str, batch_max: int = 8192) -> None:
        self.data = data
        self.label = label
        self.batch_max = batch_max

    def describe(self) -> str:
        return f"{self.label} ({len(self.data):,} quotes)"

    def __len__(self) -> int:
        return len(self.data)

    async def batches(self) -> AsyncIterator[QuoteBatch]:
        n = len(self.data)
        for start in range(0, n, self.batch_max):
            yield self.data.slice(start, min(start + self.batch_max, n))
            await asyncio.sleep(0)


class ReplayFeed:
    """Replay of a recorded quote file (CSV or Parquet), one session day at a time, streamed:
    the file is read a chunk at a time, so memory does not grow with its length."""

    def __init__(
        self,
        path: Path,
        index: dict[str, int],
        day: date | None = None,
        batch_max: int = 8192,
        tz: str = "",
        chunk_rows: int = CHUNK_ROWS,
    ) -> None:
        self.file = QuoteFile(path, tz, chunk_rows)
        scan = self.file.scan()
        days = scan.days
        if not days:
            raise DataError(f"{path}: no quotes")
        if day is None:
            day = days[0]
        elif day not in days:
            raise DataError(f"{path}: no quotes on {day} (file has {days[0]} … {days[-1]})")
        self.path = path
        self.day = day
        self.index = index
        self.batch_max = batch_max
        self.in_order = scan.in_order
        self.total = scan.per_day[day]

    def describe(self) -> str:
        return f"replay {self.path.name} {self.day} ({self.total:,} quotes)"

    def __len__(self) -> int:
        return self.total

    async def batches(self) -> AsyncIterator[QuoteBatch]:
        for data in self.file.batches(self.day, self.index, self.in_order):
            n = len(data)
            for start in range(0, n, self.batch_max):
                yield data.slice(start, min(start + self.batch_max, n))
                await asyncio.sleep(0)
