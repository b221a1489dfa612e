"""Premium/discount mean reversion on the funds (the first end-to-end strategy).

Buy a fund when it trades at a discount deeper than `entry_bp` to its iNAV and the spread is sane;
sell back when the discount has closed to within `exit_bp`; be flat `flat_before_close_min` before
the close (inverse funds decay overnight). Long only: shorting these funds is often restricted.

The expected edge of an entry is the discount it expects back, |premium| − exit_bp; it must exceed
the estimated round trip of the fund (`Sizer.round_trip_bp`: two half spreads, slippage, fees).
"""

from __future__ import annotations

import math

from inavd.domain.events import InavEvaluated
from inavd.domain.intents import Intent
from inavd.domain.plain import plain
from inavd.domain.units import NS_PER_S
from inavd.settings import PremiumReversionSettings
from inavd.signals._common import FundIndex, clears_costs
from inavd.signals.base import Context
from inavd.sizing.config import SizingSettings
from inavd.sizing.kelly import Sizer


class PremiumReversion:
    name = "premrev"

    def __init__(
        self, cfg: PremiumReversionSettings, funds: tuple[str, ...], sizer: Sizer | None = None
    ) -> None:
        self.cfg = cfg
        self._c = plain(cfg)  # read for every fund visited (`inavd.domain.plain`)
        self.sizer = sizer or Sizer(SizingSettings())
        self.symbols = frozenset(cfg.symbols or funds)
        self.index = FundIndex(self.symbols.__contains__)
        self._flat_ns = int(cfg.flat_before_close_min * 60 * NS_PER_S)  # flat by close − this
        # fund → (the numbers an entry was decided on, the decision)
        self._entered: dict[str, tuple[tuple[float, ...], Intent | None]] = {}

    def on_inav(self, ev: InavEvaluated, ctx: Context) -> list[Intent]:
        if not self._c.enabled:
            return []
        closing = self._near_close(ctx)
        index = self.index
        index.update(ev.symbols)
        # only a fund deep enough at a discount can enter; held funds may exit (nan compares False)
        premium, entry = ev.premium_bp, -self._c.entry_bp
        mine = ctx.own(self.name)
        if closing:
            visit = index.with_held([], mine)
        elif index.small:  # the same test, fund by fund
            visit = index.with_held([j for j in index.order if premium.item(j) <= entry], mine)
        else:
            visit = index.visit(premium <= entry, mine)
        out: list[Intent] = []
        for j in visit:
            sym = ev.symbols[j]
            held = mine.get(sym, 0.0)
            prem = premium.item(j)
            if closing or not math.isfinite(prem):
                if held != 0.0:
                    out.append(
                        Intent(self.name, sym, 0.0, "flat before close" if closing else "no iNAV")
                    )
                continue
            if held == 0.0 and prem <= -self._c.entry_bp:
                intent = self._entry(sym, prem, ev.mid.item(j), ctx)
                if intent is not None:
                    out.append(intent)
            elif held > 0 and prem >= -self._c.exit_bp:
                out.append(Intent(self.name, sym, 0.0, f"discount closed ({prem:.1f} bp)"))
        return out

    def _entry(self, sym: str, prem: float, mid: float, ctx: Context) -> Intent | None:
        """An entry is decided by the discount, the mid and the fund's quote (spread, round
        trip): on the same numbers it is the same decision, so it is not worked out again."""
        i = ctx.book.index[sym]
        bids, asks = ctx.quotes
        bid, ask = bids[i], asks[i]  # one read of the touch for every use below
        inputs = (prem, mid, bid, ask)
        last = self._entered.get(sym)
        if last is not None and last[0] == inputs:
            return last[1]
        # one symbol's spread, exactly as `QuoteBook.spread_bp` computes it for the whole book
        spread_ok = (ask - bid) / ((bid + ask) * 0.5) * 1e4 <= self._c.max_spread_bp
        intent = self._enter(sym, prem, mid, bid, ask) if spread_ok else None
        self._entered[sym] = (inputs, intent)
        return intent

    def _enter(self, sym: str, prem: float, mid: float, bid: float, ask: float) -> Intent | None:
        edge = -prem - self._c.exit_bp
        cost = self.sizer.touch_round_trip_bp(sym, bid, ask)
        qty = math.floor(self._c.order_notional_usd / mid) if mid > 0 else 0
        if qty <= 0 or not clears_costs(edge, cost):
            return None
        reason = f"discount {prem:.1f} bp: edge {edge:.1f} bp > round trip {cost:.1f} bp"
        return Intent(self.name, sym, float(qty), reason)

    def _near_close(self, ctx: Context) -> bool:
        if ctx.session is None:
            return True
        return ctx.now_ns >= ctx.session.close_ns - self._flat_ns
