"""Instruments of the universe: benchmark proxies and the funds that track them."""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec


class SwapLeg(msgspec.Struct, frozen=True):
    reference: str  # benchmark proxy symbol the swap references
    notional_usd: float  # signed: negative = short exposure


class FuturesLeg(msgspec.Struct, frozen=True):
    reference: str  # proxy symbol used to move the futures price intraday
    contracts: float  # signed number of contracts
    multiplier_usd: float  # dollars per index point
    prev_settle: float  # prior settlement price, index points


class Holdings(msgspec.Struct, frozen=True):
    shares_outstanding: float
    cash_usd: float
    accrued_fees_usd: float = 0.0
    swaps: tuple[SwapLeg, ...] = ()
    futures: tuple[FuturesLeg, ...] = ()


class Fund(msgspec.Struct, frozen=True):
    symbol: str
    benchmark: str  # tradable proxy: SPY, QQQ, DIA, IWM
    leverage: float  # daily target multiple: -1, -2, -3, +2, +3
    expense_ratio: float  # annual fraction, e.g. 0.0089
    aum_usd: float = 0.0  # for rebalance-flow estimates
    net_creations_usd: float = 0.0  # expected creations today (+) / redemptions (-)
    holdings: Holdings | None = None
    shortable: bool = False

    @property
    def is_inverse(self) -> bool:
        return self.leverage < 0

    @property
    def rebalance_factor(self) -> float:
        """L² − L: positive for every inverse and every leveraged (|L|>1) fund."""
        return self.leverage * self.leverage - self.leverage


@dataclass(frozen=True, slots=True)
class Universe:
    """Benchmarks first, then funds; an instrument's index is its slot in the quote book."""

    benchmarks: tuple[str, ...]
    funds: tuple[Fund, ...]
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        symbols = self.symbols
        if len(set(symbols)) != len(symbols):
            raise ValueError("duplicate symbol in universe")
        object.__setattr__(self, "index", {s: i for i, s in enumerate(symbols)})

    @property
    def symbols(self) -> tuple[str, ...]:
        return self.benchmarks + tuple(f.symbol for f in self.funds)

    def fund(self, symbol: str) -> Fund:
        for f in self.funds:
            if f.symbol == symbol:
                return f
        raise KeyError(symbol)

    def is_fund(self, symbol: str) -> bool:
        return any(f.symbol == symbol for f in self.funds)
