"""The QuoteFeed protocol every feed implements (replay, synthetic, Alpaca)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from inavd.domain.quotes import QuoteBatch


class QuoteFeed(Protocol):
    """Yields quote batches in arrival order until the feed ends (replay) or is stopped (live)."""

    def batches(self) -> AsyncIterator[QuoteBatch]: ...

    def describe(self) -> str: ...
