"""Columnar quote batches: the unit that flows from feeds into the quote book."""

from __future__ import annotations

import msgspec
import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]

UNKNOWN_SYMBOL = -1


class QuoteBatch(msgspec.Struct, frozen=True):
    """Quotes in arrival order. `sym` indexes the universe (-1 = unknown symbol)."""

    ts_ns: I64
    sym: I32
    bid: F64
    ask: F64
    bid_size: F64
    ask_size: F64

    def __len__(self) -> int:
        return int(self.ts_ns.shape[0])

    def slice(self, start: int, stop: int) -> QuoteBatch:
        return QuoteBatch(
            self.ts_ns[start:stop],
            self.sym[start:stop],
            self.bid[start:stop],
            self.ask[start:stop],
            self.bid_size[start:stop],
            self.ask_size[start:stop],
        )

    @staticmethod
    def empty() -> QuoteBatch:
        f = np.empty(0, dtype=np.float64)
        return QuoteBatch(np.empty(0, np.int64), np.empty(0, np.int32), f, f, f, f)

    @staticmethod
    def of(
        ts_ns: list[int],
        sym: list[int],
        bid: list[float],
        ask: list[float],
        bid_size: list[float],
        ask_size: list[float],
    ) -> QuoteBatch:
        return QuoteBatch(
            np.asarray(ts_ns, dtype=np.int64),
            np.asarray(sym, dtype=np.int32),
            np.asarray(bid, dtype=np.float64),
            np.asarray(ask, dtype=np.float64),
            np.asarray(bid_size, dtype=np.float64),
            np.asarray(ask_size, dtype=np.float64),
        )
