"""Whether an order passes every default gate, in one function.

Most orders pass. Running the sixteen gates of `GATES` one by one costs a Python call each (≈ 3 µs
an order in a decision step); this function tests the same deny conditions, written exactly as
the gates write them and in the same order, and says only whether none holds. The pipeline runs
the gates themselves when it returns False, so a denial (its gate, its reason, a halt on the daily
loss) always comes from the gate. A property test holds it equal to `all(gate(c) is None)`.
"""

from __future__ import annotations

from inavd.brokers.capabilities import PDT_MAX_DAY_TRADES, PDT_MIN_EQUITY_USD
from inavd.domain.events import TradingState
from inavd.domain.orders import OrderType, TimeInForce
from inavd.domain.units import PRICE_EPS, QTY_EPS
from inavd.risk.config import RiskSettings
from inavd.risk.gates import OrderCheck

_HALTED, _REDUCING = TradingState.HALTED, TradingState.REDUCING
_CLS, _DAY = TimeInForce.CLS, TimeInForce.DAY
_LIMIT, _MARKET = OrderType.LIMIT, OrderType.MARKET


def passes_all(c: OrderCheck, cfg: RiskSettings) -> bool:
    """True when no gate of `GATES` would deny `c` (each block: one gate, in order)."""
    r = c.req
    if c.state is _HALTED or (c.state is _REDUCING and not c.reducing):
        return False
    if not c.known:
        return False
    if not c.in_session and not (
        cfg.extended_hours and (c.auction or (r.order_type is _LIMIT and r.time_in_force is _DAY))
    ):
        return False
    if r.time_in_force is _CLS and c.after_moc_cutoff:
        return False
    return _shares_pass(c) and _market_pass(c, cfg) and _limits_pass(c, cfg)


def _shares_pass(c: OrderCheck) -> bool:
    """short_sale, fractional, pattern_day_trader."""
    r, d = c.req, c.delta
    if not (d > 0 or min(c.position, c.settled_position) + d >= -QTY_EPS) and not (
        c.short_enabled and c.venue_shortable and c.easy_to_borrow
    ):
        return False
    if c.fractional and (
        r.order_type is not _MARKET
        or r.time_in_force is not _DAY
        or (d < 0 and min(c.position, c.settled_position) + d < -QTY_EPS)
        or not c.fractionable
    ):
        return False
    eq = c.pdt_equity_usd
    return (
        not c.day_trade
        or not eq < PDT_MIN_EQUITY_USD
        or (not c.pdt_flagged and not c.day_trades >= PDT_MAX_DAY_TRADES)
    )


def _market_pass(c: OrderCheck, cfg: RiskSettings) -> bool:
    """stale_data, crossed_or_locked, spread, displayed_size, price_collar."""
    if c.quote_age_s > cfg.max_quote_age_s or (c.is_fund and c.inav_age_s > cfg.max_inav_age_s):
        return False
    bid, ask = c.bid, c.ask
    if not (bid > 0 and ask > 0) or bid > ask + PRICE_EPS * ask or ask - bid <= PRICE_EPS * ask:
        return False
    if not (c.auction or (c.reducing and not cfg.spread_gate_exits)):
        if c.spread_updates < cfg.spread_min_updates:
            return False
        sp = (ask - bid) / c.mid * 1e4
        limit = c.spread_mean_bp + max(cfg.spread_k * c.spread_std_bp, cfg.spread_slack_bp)
        if not sp <= limit:
            return False
    if not c.auction and (c.ask_size if c.delta > 0 else c.bid_size) < cfg.min_displayed_shares:
        return False
    lp = c.req.limit_price
    return (
        c.req.order_type is not _LIMIT
        or lp is None
        or abs(lp - c.mid) / c.mid * 1e4 <= cfg.price_collar_bp
    )


def _limits_pass(c: OrderCheck, cfg: RiskSettings) -> bool:
    """order_notional, position_limit, exposure, order_rate, daily_loss."""
    if not c.req.qty * c.price <= cfg.max_order_notional_usd:
        return False
    if not c.reducing:
        limit = cfg.position_limits_usd.get(c.req.symbol, cfg.max_position_usd)
        if not abs(c.position + c.delta) * c.mid <= limit:
            return False
    gross, net = c.exposure_after()
    if gross > cfg.max_gross_usd and gross > c.gross_usd:
        return False
    if abs(net) > cfg.max_net_usd and abs(net) > abs(c.net_usd):
        return False
    return not c.orders_last_minute >= cfg.max_orders_per_minute and not (
        c.pnl_usd <= -cfg.daily_loss_limit_usd
    )
