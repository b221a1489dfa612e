"""The gate pipeline: one callable the router calls before every submit.

It reads the app's state (book, positions, clock, session, trading state) into an `OrderCheck`,
runs the pure gates in order and returns the first denial. A daily-loss breach — seen by a gate or
by the check after every iNAV evaluation — moves the trading state to HALTED.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from inavd.book.quote_book import QuoteBook
from inavd.bus import Bus
from inavd.calendar import Session
from inavd.clock import Clock
from inavd.domain.events import InavEvaluated, OrderDenied, OrderSubmitted, TradingState
from inavd.domain.instruments import Universe
from inavd.domain.ledger import Ledger
from inavd.domain.orders import Order, OrderRequest, Side
from inavd.domain.plain import plain
from inavd.domain.units import NS_PER_S
from inavd.risk.config import RiskSettings
from inavd.risk.gates import CHAINED, GATES, Denial, Gate, OrderCheck, chain
from inavd.risk.state import TradingStateController
from inavd.risk.venue_rules import DayTrades, VenueRules

MINUTE_NS = 60 * NS_PER_S
DECISIONS_MAX = 1024  # distinct orders remembered on one unchanged state
MARKS_ONE_BY_ONE = 64  # held symbols marked by single reads; more: from the array of every mid
_BUY = Side.BUY
_Key = tuple[object, ...]


@dataclass(slots=True, eq=False)  # not frozen: a frozen __init__ costs ≈ 1 µs a book change
class _Snapshot:
    """Never changed once taken; compared by identity (a new one is a new state)."""

    accepted: int  # the book's accepted-quote count when taken
    ledger: Ledger
    realized: float
    settled: dict[str, float]  # copies of the ledger's qty/avg_price and the open orders
    avg: dict[str, float]
    working: dict[str, Order]
    qty: dict[str, float]  # settled + working orders, signed shares
    gross: float
    net: float
    pnl: float


class PositionView(Protocol):
    """What the gates read from the router (or the execution engine that replaces it)."""

    @property
    def ledger(self) -> Ledger: ...

    @property
    def open(self) -> Mapping[str, Order]: ...


class RiskGates:
    def __init__(
        self,
        cfg: RiskSettings,
        *,
        book: QuoteBook,
        positions: PositionView,
        clock: Clock,
        session: Session | None,
        state: TradingStateController,
        beta: Mapping[str, float],
        funds: frozenset[str],
        shortable: Callable[[str], bool],
        gates: Sequence[Gate] = GATES,
    ) -> None:
        self.session = session  # before the limits: the closing-auction cutoff is read off it
        self.cfg = cfg  # and `_limits`, the gates' copy of it, the short list and the cutoff
        self.book = book
        self.positions = positions
        self.clock = clock
        self.state = state
        self.beta = dict(beta)
        self.funds = funds
        self.shortable = shortable
        self.rules = VenueRules(shortable)  # the broker's rules replace the config's at start
        self.day_trades = DayTrades()
        self._passed: dict[str, tuple[str, float, float]] = {}  # coid → (symbol, delta, position)
        self.gates = gates
        self.last_inav_ns: int | None = None
        self.sent: deque[int] = deque()  # submit times (ns) within the last minute
        # the book's mids as a list, rebuilt only when the book has taken new quotes: every order
        # marks all held symbols, and a list read costs a fraction of a numpy scalar read
        self._mids: npt.NDArray[np.float64] = np.empty(0)
        self._mids_at = -1
        self._snap: _Snapshot | None = None
        self._stamp: tuple[object, ...] = ()
        self._decided_at = -1  # the clock when the gates last judged an order
        self._asked: set[str] = set()  # the symbols of the orders decided at that reading
        self._decisions: dict[_Key, Denial | None] = {}
        # realized P&L of this session's earlier runs (a live restart under a new run id)
        self.carried_pnl_usd = 0.0

    @property
    def cfg(self) -> RiskSettings:
        return self._cfg

    @cfg.setter
    def cfg(self, cfg: RiskSettings) -> None:
        """New limits: the gates read them from a plain copy (`inavd.domain.plain`: a dozen
        reads for every order that passes, each ≈ 3 × cheaper than from the model). The
        symbols that may be sold short and the closing-auction cutoff follow the new limits."""
        self._cfg = cfg
        self._limits = plain(cfg)
        self.short_enabled = frozenset(cfg.short_symbols)
        s = self.session
        self.moc_cutoff_ns = s.moc_cutoff_ns(cfg.moc_cutoff_min) if s is not None else 0

    @property
    def gates(self) -> tuple[Gate, ...]:
        return self._gates

    @gates.setter
    def gates(self, gates: Sequence[Gate]) -> None:
        """The gates, run as one function compiled from their code when they can be
        (`risk.gates.chain`), else one by one."""
        self._gates = tuple(gates)
        self._chained = CHAINED if self._gates == GATES else chain(self._gates)

    # ------------------------------------------------------------------ the router hook
    def __call__(self, req: OrderRequest) -> Denial | None:
        now = self.clock.now_ns()
        snap = self._snapshot()
        sent = self.sent
        if sent and sent[0] <= now - MINUTE_NS:
            self._orders_last_minute(now)
        olm = len(sent)
        sym = req.symbol
        if now != self._decided_at:  # a new clock reading: nothing decided before applies
            self._decided_at, self._stamp, self._asked = now, (), {sym}
            denial = self._run(self._check(req, now, snap, olm))
        elif sym in self._asked:  # an order of this symbol was decided at this clock reading
            denial = self._remembered(req, now, snap, olm)
        else:
            self._asked.add(sym)
            denial = self._run(self._check(req, now, snap, olm))
        if denial is None:
            sent.append(now)
            delta = req.qty if req.side is _BUY else -req.qty
            self._passed[req.client_order_id] = (sym, delta, snap.qty.get(sym, 0.0))
        return denial

    def _remembered(self, req: OrderRequest, now: int, snap: _Snapshot, olm: int) -> Denial | None:
        """An order of a symbol already decided at this clock reading: the decision on an
        identical order on this very state, else judged now and remembered."""
        flags, day_trade = self._order_inputs(req, snap.qty.get(req.symbol, 0.0))
        key = (req.symbol, req.side, req.qty, req.order_type, req.time_in_force, req.limit_price,
               flags, day_trade)  # fmt: skip
        decisions = self._decisions_for(snap, olm)
        if key in decisions:  # a membership test: a sentinel's identity is not kept when compiled
            return decisions[key]
        denial = self._run(self._check(req, now, snap, olm))
        if denial is None or denial[0] != "daily_loss":
            decisions[key] = denial  # a daily-loss denial halts: re-judged, not replayed
        return denial

    def _run(self, check: OrderCheck) -> Denial | None:
        limits, chained = self._limits, self._chained
        if chained is not None:
            denial = chained(check, limits)
        else:
            denial = None
            for gate in self._gates:
                denial = gate(check, limits)
                if denial is not None:
                    break
        if denial is not None and denial[0] == "daily_loss":
            self.state.set(TradingState.HALTED, f"daily loss limit: {denial[1]}")
        return denial

    def _decisions_for(self, snap: _Snapshot, olm: int) -> dict[_Key, Denial | None]:
        """The decisions taken on exactly this state at this clock reading (emptied when
        anything a gate reads differs; a new reading empties them in `__call__`).

        An order identical to one already judged on an unchanged state gets the same answer
        without being judged again: a denied or unfilled order asked for again costs a
        dictionary lookup instead of the gates (≈ 4 µs). Only orders
        of a symbol already decided at this reading look here, so orders of distinct symbols
        (every step when prices move) never pay for the key and the stamp. The per-order key is
        the order (symbol, side, quantity, type, time in force, limit), the symbol's venue flags
        and whether it would be a day trade; the stamp below holds every other input of the
        check: the book's accepted-quote count (every quote, size and spread statistic), the
        position snapshot (ledger and working orders, exposure, P&L), the trading state and its
        reason, the last iNAV, the orders of the last minute, the limits, the session, the gates,
        the venue's account rules and the day trades made.
        """
        st, rules = self.state, self.rules
        # nan (no PDT rule) enters as None: nan equals nothing, not even itself, and a float read
        # in compiled code is a new object each time (a tuple compare's identity test never holds)
        pdt = None if math.isnan(rules.pdt_equity_usd) else rules.pdt_equity_usd
        stamp = (self.book.accepted, snap, st.state, st.reason, self.last_inav_ns, olm, self._cfg,
                 self.session, self.moc_cutoff_ns, self.gates, rules, rules.prior_day_trades,
                 pdt, rules.pdt_flagged, self.day_trades.count, self.carried_pnl_usd)  # fmt: skip
        if stamp != self._stamp or len(self._decisions) >= DECISIONS_MAX:
            self._stamp = stamp
            self._decisions = {}
        return self._decisions

    def attach(self, bus: Bus) -> None:
        bus.subscribe(InavEvaluated, self._on_inav)
        bus.subscribe(OrderSubmitted, self._on_submitted)
        bus.subscribe(OrderDenied, self._on_denied)

    def _on_submitted(self, ev: OrderSubmitted) -> None:
        """Count the day trade an order sent creates (a later gate may still have refused it)."""
        passed = self._passed.pop(ev.request.client_order_id, None)
        if passed is not None:
            self.day_trades.record(*passed)

    def _on_denied(self, ev: OrderDenied) -> None:
        self._passed.pop(ev.request.client_order_id, None)

    def _on_inav(self, ev: InavEvaluated) -> None:
        self.last_inav_ns = ev.ts_ns
        pnl = self.pnl_usd()
        if pnl <= -self._limits.daily_loss_limit_usd:
            self.state.set(TradingState.HALTED, f"daily loss limit: P&L {pnl:,.0f} USD")

    # ------------------------------------------------------------------ state → check
    def check_for(self, req: OrderRequest) -> OrderCheck:
        """The check `req` is judged on now."""
        now, snap = self.clock.now_ns(), self._snapshot()
        return self._check(req, now, snap, self._orders_last_minute(now))

    def _order_inputs(
        self, req: OrderRequest, position: float
    ) -> tuple[tuple[bool, bool, bool], bool]:
        """(the symbol's venue flags, whether the order is a day trade) at `position`."""
        sym, dt = req.symbol, self.day_trades
        flags = self.rules.flags.get(sym) or self.rules.flags_of(sym)
        day_trade = bool(dt.opened_long or dt.opened_short) and dt.would_day_trade(
            sym, req.qty if req.side is _BUY else -req.qty, position
        )
        return flags, day_trade

    def _check(self, req: OrderRequest, now: int, snap: _Snapshot, olm: int) -> OrderCheck:
        """Everything the gates read about `req` now (this runs for every order judged afresh)."""
        sym = req.symbol
        st = self.state
        b = self.book
        i = b.index.get(sym)
        if i is None:
            return OrderCheck(req, now, st.state, st.reason, known=False)
        updates: int = b.updates.item(i)  # `.item` reads a Python number without a numpy scalar
        is_fund = sym in self.funds
        last_inav = self.last_inav_ns
        if last_inav is not None:
            inav_age = (now - last_inav) / NS_PER_S
        else:
            inav_age = math.inf if is_fund else 0.0
        s = self.session
        enabled = sym in self.short_enabled
        rules, dt = self.rules, self.day_trades
        position = snap.qty.get(sym, 0.0)
        (shortable, easy, fractionable), day_trade = self._order_inputs(req, position)
        # positional, in field order: a call with 32 keywords costs ~0.4 µs more per order
        return OrderCheck(
            req,
            now,
            st.state,
            st.reason,
            True,  # known
            b.bid.item(i),
            b.ask.item(i),
            b.bid_size.item(i),
            b.ask_size.item(i),
            (now - b.last_ns.item(i)) / NS_PER_S if updates else math.inf,  # quote_age_s
            b.spread_mean_bp.item(i),
            math.sqrt(b.spread_var_bp2.item(i)),  # spread_std_bp
            updates,
            is_fund,
            inav_age,
            self.beta.get(sym, 1.0),
            position,  # incl. working orders
            snap.settled.get(sym, 0.0),  # settled position
            snap.gross,
            snap.net,
            snap.pnl,
            olm,  # orders in the last minute
            s is None or s.open_ns <= now < s.close_ns,  # in_session
            s is not None and now > self.moc_cutoff_ns,  # after_moc_cutoff
            enabled,
            enabled and shortable,  # venue_shortable
            easy,
            fractionable,
            day_trade,
            rules.prior_day_trades + dt.count,  # day_trades
            rules.pdt_equity_usd,
            rules.pdt_flagged,
        )

    def _snapshot(self) -> _Snapshot:
        """Positions incl. working orders, gross/net and P&L at the mids: the same for every order
        of a decision step, so recomputed only when the book, the ledger or the open orders have
        changed (compared by value against copies; a dict compare is a C loop)."""
        snap = self._snap
        ledger, working = self.positions.ledger, self.positions.open
        if (
            snap is not None
            and snap.accepted == self.book.accepted
            and snap.ledger is ledger
            and snap.realized == ledger.realized_pnl_usd
            and snap.settled == ledger.qty
            and snap.avg == ledger.avg_price
            and snap.working == working
        ):
            return snap
        qty = dict(ledger.qty)
        for o in working.values():
            qty[o.symbol] = qty.get(o.symbol, 0.0) + o.request.side.sign * o.remaining_qty
        marks, beta = self._marks(qty), self.beta
        gross = net = 0.0
        for s, q in qty.items():
            v = q * marks[s] * beta.get(s, 1.0)
            if math.isfinite(v):
                gross += abs(v)
                net += v
        snap = self._snap = _Snapshot(
            self.book.accepted,
            ledger,
            ledger.realized_pnl_usd,
            dict(ledger.qty),
            dict(ledger.avg_price),
            dict(working),
            qty,
            gross,
            net,
            self._pnl(ledger, marks),
        )
        return snap

    def _marks(self, held: Mapping[str, float]) -> dict[str, float]:
        """The mid of each held symbol (nan without a quote or outside the book). A few are read
        one by one (≈ 0.1 µs each); many from the cached array of every mid, which costs ≈ 1 µs
        a book change at 20 symbols and grows with the book. Either way `(bid + ask) * 0.5` in
        float64: the same doubles."""
        index = self.book.index
        if len(held) > MARKS_ONE_BY_ONE:
            mids = self.mids()
            return {s: float(mids[i]) if (i := index.get(s)) is not None else math.nan
                    for s in held}  # fmt: skip
        bid, ask = self.book.bid, self.book.ask
        return {s: (bid.item(i) + ask.item(i)) * 0.5 if (i := index.get(s)) is not None
                else math.nan for s in held}  # fmt: skip

    def _positions(self, sym: str) -> tuple[float, float, float, float]:
        """(position incl. working orders, settled position, gross, net) in benchmark dollars."""
        snap = self._snapshot()
        return snap.qty.get(sym, 0.0), snap.settled.get(sym, 0.0), snap.gross, snap.net

    def mids(self) -> npt.NDArray[np.float64]:
        """The book's mids (nan without a quote), cached until the book accepts a quote. An
        array, read only at the held symbols: a list of every mid cost a millisecond per
        evaluation at 10,000 funds."""
        b = self.book
        if self._mids_at != b.accepted:
            self._mids = (b.bid + b.ask) * 0.5
            self._mids_at = b.accepted
        return self._mids

    def pnl_usd(self) -> float:
        """Realised + unrealised P&L at the mids (the ledger starts flat each session)."""
        return self._snapshot().pnl

    def _pnl(self, ledger: Ledger, marks: Mapping[str, float]) -> float:
        pnl = ledger.realized_pnl_usd + self.carried_pnl_usd
        if not ledger.qty:
            return pnl
        avg = ledger.avg_price
        for s, q in ledger.qty.items():
            m = marks[s]
            if math.isfinite(m):
                pnl += q * (m - avg[s])
        return pnl

    def _orders_last_minute(self, now: int) -> int:
        sent = self.sent
        while sent and sent[0] <= now - MINUTE_NS:
            sent.popleft()
        return len(sent)


def universe_beta(universe: Universe) -> dict[str, float]:
    """Benchmark dollars per dollar held: 1 for a proxy, L for a fund."""
    beta = {b: 1.0 for b in universe.benchmarks}
    beta.update({f.symbol: f.leverage for f in universe.funds})
    return beta


def build_gates(
    cfg: RiskSettings,
    *,
    universe: Universe,
    book: QuoteBook,
    positions: PositionView,
    clock: Clock,
    session: Session | None,
    state: TradingStateController,
    bus: Bus,
) -> RiskGates:
    """The app's pipeline: venue shortability from `risk.shortable` and the universe flags."""
    venue = frozenset(cfg.shortable) | {f.symbol for f in universe.funds if f.shortable}
    if cfg.initial_state != TradingState.ACTIVE.value:
        state.set(TradingState(cfg.initial_state), "config")
    gates = RiskGates(
        cfg,
        book=book,
        positions=positions,
        clock=clock,
        session=session,
        state=state,
        beta=universe_beta(universe),
        funds=frozenset(f.symbol for f in universe.funds),
        shortable=venue.__contains__,
    )
    gates.attach(bus)
    return gates
