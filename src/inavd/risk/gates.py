"""Risk gates: small pure functions over one `OrderCheck`, each returning None or (gate, reason).

The pipeline (`risk/pipeline.py`) gathers everything a gate may look at into an `OrderCheck` once
per order, then runs `GATES` in order; the first denial wins. Gates never mutate anything, so each
can be tested with a hand-built check. The pipeline runs them as one function compiled from their
own code (`chain`): the same statements, without a Python call per gate.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import types
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from inavd import startup_cache
from inavd.brokers.capabilities import PDT_MAX_DAY_TRADES, PDT_MIN_EQUITY_USD
from inavd.domain.events import TradingState
from inavd.domain.orders import OrderRequest, OrderType, Side, TimeInForce
from inavd.domain.units import PRICE_EPS, QTY_EPS
from inavd.risk.config import RiskSettings

Denial = tuple[str, str]
_AUCTIONS = frozenset({TimeInForce.CLS, TimeInForce.OPG})
# enum members bound once: `TradingState.HALTED` is a class-attribute lookup costing ~0.1 µs
_HALTED, _REDUCING = TradingState.HALTED, TradingState.REDUCING
_BUY, _CLS, _LIMIT = Side.BUY, TimeInForce.CLS, OrderType.LIMIT
_DAY, _MARKET = TimeInForce.DAY, OrderType.MARKET


_NAN = float("nan")


class OrderCheck(msgspec.Struct, gc=False):
    """One order and the state it is judged against (positions include working orders).

    A `msgspec.Struct`: built in C (the pipeline builds one for every order judged afresh, and a
    dataclass's generated `__init__` runs a Python statement per field); not tracked by the cycle
    collector, as it refers to nothing that refers back to it. Change one with
    `msgspec.structs.replace`, which derives the fields below again."""

    req: OrderRequest
    now_ns: int
    state: TradingState = TradingState.ACTIVE
    state_reason: str = ""
    known: bool = True
    bid: float = _NAN
    ask: float = _NAN
    bid_size: float = 0.0
    ask_size: float = 0.0
    quote_age_s: float = 0.0
    spread_mean_bp: float = _NAN
    spread_std_bp: float = 0.0
    spread_updates: int = 0
    is_fund: bool = False
    inav_age_s: float = 0.0
    beta: float = 1.0  # benchmark dollars per dollar of this instrument (a fund's leverage)
    position: float = 0.0  # signed shares, ledger + working orders
    settled_position: float = 0.0  # signed shares in the ledger only
    gross_usd: float = 0.0  # Σ |shares · mid · β| before this order
    net_usd: float = 0.0  # Σ shares · mid · β before this order
    pnl_usd: float = 0.0  # realised + unrealised today
    orders_last_minute: int = 0
    in_session: bool = True
    after_moc_cutoff: bool = False
    short_enabled: bool = False
    venue_shortable: bool = False
    # the venue's own rules (risk/venue_rules.py); the defaults leave these gates open
    easy_to_borrow: bool = True
    fractionable: bool = True
    day_trade: bool = False  # this order closes shares opened today
    day_trades: int = 0  # day trades in the last five sessions before this order
    pdt_equity_usd: float = _NAN  # equity at the prior close; nan: no PDT rule
    pdt_flagged: bool = False

    # derived in __post_init__, whatever is passed for them (gates read them many times;
    # properties cost a call each)
    delta: float = 0.0  # signed shares of this order
    mid: float = _NAN
    price: float = _NAN  # expected execution price: the limit, else the touch
    reducing: bool = False  # shrinks |position| without crossing through zero
    auction: bool = False  # closing/opening auction: no spread is crossed
    fractional: bool = False  # a quantity that is not a whole number of shares

    def __post_init__(self) -> None:
        r = self.req
        q = r.qty
        d = self.delta = q if r.side is _BUY else -q
        bid, ask = self.bid, self.ask
        self.mid = (bid + ask) * 0.5
        lp = r.limit_price
        if lp is not None:
            self.price = lp
        else:
            self.price = ask if d > 0 else bid
        p = self.position
        self.reducing = abs(p) > QTY_EPS and (p > 0) != (d > 0) and abs(d) <= abs(p) + QTY_EPS
        self.auction = r.time_in_force in _AUCTIONS
        self.fractional = abs(q - round(q)) > QTY_EPS

    def exposure_after(self) -> tuple[float, float]:
        """(gross, net) after the order, marked at the mid."""
        unit, p = self.mid * self.beta, self.position
        before, after = p * unit, (p + self.delta) * unit
        return self.gross_usd - abs(before) + abs(after), self.net_usd - before + after


Gate = Callable[[OrderCheck, RiskSettings], Denial | None]


def trading_state(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
    if c.state is _HALTED:
        return "trading_state", f"halted ({c.state_reason})"
    if c.state is _REDUCING and not c.reducing:
        return "trading_state", "reducing: only exposure-reducing orders"
    return None


def known_symbol(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
    return None if c.known else ("unknown_symbol", f"{c.req.symbol} is not in the book")


def session(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
    if not c.in_session:
        if not cfg.extended_hours:
            return "session", "outside regular hours"
        denial = extended_hours(c, cfg)
        if denial is not None:
            return denial
    if c.req.time_in_force is _CLS and c.after_moc_cutoff:
        return "moc_cutoff", f"closing-auction order after close − {cfg.moc_cutoff_min:g} min"
    return None


def short_sale(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
    d = c.delta
    if d > 0:
        return None
    p, s = c.position, c.settled_position
    if (s if s < p else p) + d >= -QTY_EPS:  # the lower of the two (`min` costs ≈ 0.1 µs)
        return None
    if not c.short_enabled:
        return "short_sale", f"short sales of {c.req.symbol} are not enabled"
    if not c.venue_shortable:
        return "short_sale", f"{c.req.symbol} is not shortable at the venue"
    if not c.easy_to_borrow:
        return "hard_to_borrow", f"{c.req.symbol} is hard to borrow: never shorted"
    return None


def extended_hours(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
    """Outside regular hours the venue takes only limit DAY orders (auction orders queue); run by
    `session`, which alone knows the hour."""
    r = c.req
    if c.in_session or c.auction or (r.order_type is _LIMIT and r.time_in_force is _DAY):
        return None
    return "extended_hours", f"outside regular hours only limit DAY orders, not {r.order_type}"


def fractional(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
    """Fractional shares: market DAY orders only, never short, and only where the venue allows."""
    if not c.fractional:
        return None
    r = c.req
    if r.order_type is not _MARKET or r.time_in_force is not _DAY:
        return "fractional", f"fractional {r.qty:g} shares only on market DAY orders"
    if c.delta < 0 and min(c.position, c.settled_position) + c.delta < -QTY_EPS:
        return "fractional", f"fractional {r.qty:g} shares of {r.symbol} cannot be sold short"
    if not c.fractionable:
        return "fractional", f"{r.symbol} is not fractionable at the venue"
    return None


def pattern_day_trader(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
    """Below 25,000 USD of equity at the prior close, no fourth day trade in five sessions (the
    venue would flag the account); a flagged account below it makes no day trade at all."""
    eq = c.pdt_equity_usd
    if not c.day_trade or not eq < PDT_MIN_EQUITY_USD:  # nan: the venue has no such rule
        return None
    if c.pdt_flagged:
        return "pattern_day_trader", f"flagged day trader, equity {eq:,.0f} < 25,000 USD"
    if c.day_trades >= PDT_MAX_DAY_TRADES:
        n = c.day_trades
        return "pattern_day_trader", f"{n} day trades in 5 sessions, equity {eq:,.0f} < 25,000 USD"
    return None


def stale_data(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
    if c.quote_age_s > cfg.max_quote_age_s:
        return "stale_quote", f"quote {c.quote_age_s:.1f} s old > {cfg.max_quote_age_s:g} s"
    if c.is_fund and c.inav_age_s > cfg.max_inav_age_s:
        return "stale_inav", f"iNAV {c.inav_age_s:.1f} s old > {cfg.max_inav_age_s:g} s"
    return None


def crossed_or_locked(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
    bid, ask = c.bid, c.ask
    if not (bid > 0 and ask > 0):
        return "no_quote", "no two-sided quote"
    eps = PRICE_EPS * ask
    if bid > ask + eps:
        return "crossed", f"crossed market {bid:.4f} > {ask:.4f}"
    if ask - bid <= eps:
        return "crossed", f"locked market {bid:.4f} = {ask:.4f}"
    return None


def spread(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
    if c.auction or (c.reducing and not cfg.spread_gate_exits):
        return None
    if c.spread_updates < cfg.spread_min_updates:
        return "spread", f"{c.spread_updates} quotes of spread history < {cfg.spread_min_updates}"
    sp = (c.ask - c.bid) / c.mid * 1e4
    k, slack = cfg.spread_k * c.spread_std_bp, cfg.spread_slack_bp
    limit = c.spread_mean_bp + (slack if slack > k else k)  # the larger (`max` costs ≈ 0.1 µs)
    if not sp <= limit:
        return "spread", f"spread {sp:.2f} bp > mean + {cfg.spread_k:g}σ = {limit:.2f} bp"
    return None


def displayed_size(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
    if c.auction:
        return None
    size = c.ask_size if c.delta > 0 else c.bid_size
    if size < cfg.min_displayed_shares:
        return "displayed_size", f"{size:g} shares displayed < {cfg.min_displayed_shares:g}"
    return None


def price_collar(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
    lp = c.req.limit_price
    if c.req.order_type is not _LIMIT or lp is None:
        return None
    off = abs(lp - c.mid) / c.mid * 1e4
    if not off <= cfg.price_collar_bp:
        return "price_collar", f"limit {lp:.4f} is {off:.0f} bp from mid > {cfg.price_collar_bp:g}"
    return None


def order_notional(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
    n = c.req.qty * c.price
    if not n <= cfg.max_order_notional_usd:
        return "max_order_notional", f"{n:,.0f} USD > {cfg.max_order_notional_usd:,.0f}"
    return None


def position_limit(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
    if c.reducing:
        return None
    limit = cfg.position_limits_usd.get(c.req.symbol, cfg.max_position_usd)
    usd = abs(c.position + c.delta) * c.mid
    if not usd <= limit:
        return "max_position", f"{c.req.symbol} {usd:,.0f} USD > {limit:,.0f}"
    return None


def exposure(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
    gross, net = c.exposure_after()
    if gross > cfg.max_gross_usd and gross > c.gross_usd:
        return "max_gross", f"gross {gross:,.0f} USD > {cfg.max_gross_usd:,.0f}"
    if abs(net) > cfg.max_net_usd and abs(net) > abs(c.net_usd):
        return "max_net", f"net {net:,.0f} USD beyond ±{cfg.max_net_usd:,.0f}"
    return None


def order_rate(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
    if c.orders_last_minute >= cfg.max_orders_per_minute:
        return "order_rate", f"{c.orders_last_minute} orders in the last minute"
    return None


def daily_loss(c: OrderCheck, cfg: RiskSettings) -> Denial | None:
    if c.pnl_usd <= -cfg.daily_loss_limit_usd:
        return "daily_loss", f"P&L {c.pnl_usd:,.0f} USD ≤ −{cfg.daily_loss_limit_usd:,.0f}"
    return None


# cheap, state-level checks first; the daily loss last so it only halts for a real order
GATES: tuple[Gate, ...] = (
    trading_state,
    known_symbol,
    session,  # and extended_hours
    short_sale,
    fractional,
    pattern_day_trader,
    stale_data,
    crossed_or_locked,
    spread,
    displayed_size,
    price_collar,
    order_notional,
    position_limit,
    exposure,
    order_rate,
    daily_loss,
)


# ---------------------------------------------------------------------------- the gates as one call
_UNCHAINABLE = (ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.Break,
                ast.Continue, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef,
                ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Yield,
                ast.YieldFrom, ast.Await, ast.Global, ast.Nonlocal, ast.NamedExpr, ast.Delete,
                ast.Match)  # fmt: skip
_CHECK, _LIMITS, _DENIAL = "_c", "_cfg", "_d"  # the chained function's own names


def chain(gates: Sequence[Gate]) -> Gate | None:
    """`gates` run in order as one function, the first denial winning: each gate's body compiled
    from its own source, in a block of its own (a `return None` ends the block, a denial returns
    it), so the only copy of a gate's logic stays the gate. A gate call costs ≈ 0.1 µs in the
    moving step, 16 of them per order; the chained function answers exactly what the gates one by
    one answer (`tests/property/test_gates_pipeline.py`).

    None when a gate cannot be chained this way: not a plain two-argument function of this
    module without defaults or closure, a body with loops, nested scopes or a parameter
    reassigned, or a source that no longer compiles to the function's own code (the file
    changed on disk): the caller then runs the gates one by one."""
    funcs: list[types.FunctionType] = []
    for gate in gates:
        if not isinstance(gate, types.FunctionType) or gate.__globals__ is not globals():
            return None
        funcs.append(gate)
    code, _ = _chain_code(funcs)
    return None if code is None else types.FunctionType(code, globals(), "chained_gates")


def warm_cache() -> str | None:
    """Write the default chain's cache entry even where Python writes no bytecode, as
    `compileall` writes bytecode (install steps: `make`, the image). Its path, or None."""
    funcs = [g for g in GATES if isinstance(g, types.FunctionType)]
    code, entry = _chain_code(funcs, rebuild=True) if len(funcs) == len(GATES) else (None, None)
    return entry.path if code is not None and entry is not None and entry.load() else None


def _chain_code(
    gates: list[types.FunctionType], rebuild: bool = False
) -> tuple[types.CodeType | None, startup_cache.Entry | None]:
    """The chained code of `gates` (this module's functions), from its cache entry or compiled
    and kept there (`rebuild`: compiled and kept even where Python writes no bytecode). The
    entry is used only for the very source it was compiled from (sha256 of this file, which
    holds the gates and this compiler) and only while each gate still runs the code it was
    checked against; anything else compiles afresh and replaces it. Parsing, checking and
    compiling cost every process 6 ms of its start-up; loading the entry 0.1 ms."""
    source = _source(__file__)
    if source is None:
        return None, None
    key = (
        hashlib.sha256(source.encode()).hexdigest(),
        tuple(_fingerprint(g.__code__) for g in gates),
    )
    names = hashlib.sha256(" ".join(g.__name__ for g in gates).encode()).hexdigest()[:16]
    entry = startup_cache.Entry(__file__, f"gates.chain.{names}", key)
    code = None if rebuild else entry.load()
    if not isinstance(code, types.CodeType):
        code = _compile_chain(gates, _functions(source, __file__))
        if code is not None:
            entry.store(code, always=rebuild)
    return code, entry


def _compile_chain(
    gates: list[types.FunctionType], defs: dict[int, ast.FunctionDef]
) -> types.CodeType | None:
    """The code of the chained function (see `chain`), or None."""
    blocks: list[ast.stmt] = []
    for n, gate in enumerate(gates):
        body = _gate_body(gate, defs.get(gate.__code__.co_firstlineno), f"_{n}_")
        if body is None:
            return None
        blocks.append(ast.While(ast.Constant(True), [*body, ast.Break()], []))
    args = ast.arguments([], [ast.arg(_CHECK), ast.arg(_LIMITS)], None, [], [], None, [])
    fn = ast.FunctionDef("chained_gates", args, [*blocks, ast.Return(ast.Constant(None))], [])
    module = ast.fix_missing_locations(ast.Module([fn], []))
    own = [c for c in compile(module, __file__, "exec").co_consts if isinstance(c, types.CodeType)]
    return own[0] if len(own) == 1 else None


def _source(filename: str) -> str | None:
    """The text of a source file (None without one: an install without sources)."""
    try:
        with open(filename, encoding="utf-8") as f:
            return f.read()
    except (OSError, ValueError):
        return None


def _functions(source: str, filename: str) -> dict[int, ast.FunctionDef]:
    """The module-level functions of a source by their first line ({} if it does not parse)."""
    try:
        tree = ast.parse(source, filename)
    except (SyntaxError, ValueError):
        return {}
    return {node.lineno: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _fingerprint(
    code: types.CodeType,
) -> tuple[bytes, tuple[Any, ...], tuple[str, ...], tuple[str, ...], int]:
    return (code.co_code, code.co_consts, code.co_names, code.co_varnames, code.co_argcount)


def _gate_body(
    gate: types.FunctionType, fn: ast.FunctionDef | None, prefix: str
) -> list[ast.stmt] | None:
    """The statements of `gate` (defined by `fn`) over the chained function's names, or None."""
    code = gate.__code__
    star = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS
    if (fn is None or fn.name != gate.__name__ or fn.decorator_list or gate.__closure__
            or gate.__defaults__ or gate.__kwdefaults__ or code.co_argcount != 2
            or code.co_kwonlyargcount or code.co_flags & star):  # fmt: skip
        return None
    if not _same_code(fn, code):
        return None
    nodes = [node for stmt in fn.body for node in ast.walk(stmt)]
    if any(isinstance(node, _UNCHAINABLE) for node in nodes):
        return None
    params = [a.arg for a in fn.args.args]
    used = [node for node in nodes if isinstance(node, ast.Name)]
    stored = {n.id for n in used if not isinstance(n.ctx, ast.Load)}
    read = {n.id for n in used} - stored - set(params)
    if stored & set(params) or any(_chain_name(n) for n in read):
        return None  # a parameter reassigned, or a global read that the chain's names would hide
    names = {params[0]: _CHECK, params[1]: _LIMITS} | {v: prefix + v for v in stored}
    for node in used:
        node.id = names.get(node.id, node.id)
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return _ending_blocks(body)


def _chain_name(name: str) -> bool:
    return name in (_CHECK, _LIMITS, _DENIAL) or (name[:1] == "_" and name[1:2].isdigit())


def _ending_blocks(body: list[ast.stmt]) -> list[ast.stmt]:
    """`body` with `return None` ending the block and any other return returning only a denial."""
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.Return):
            value = stmt.value
            if value is None or (isinstance(value, ast.Constant) and value.value is None):
                out.append(ast.copy_location(ast.Break(), stmt))
                continue
            if isinstance(value, ast.Tuple):  # a denial as written: returned as it is
                out.append(stmt)
                continue
            # anything else may be None: `_d = value; if _d is not None: return _d; break`
            denial = ast.Name(_DENIAL, ast.Load())
            is_denial = ast.Compare(denial, [ast.IsNot()], [ast.Constant(None)])
            new = [
                ast.Assign([ast.Name(_DENIAL, ast.Store())], value),
                ast.If(is_denial, [ast.Return(ast.Name(_DENIAL, ast.Load()))], []),
                ast.Break(),
            ]
            out.extend(ast.copy_location(s, stmt) for s in new)
            continue
        if isinstance(stmt, ast.If):
            stmt.body, stmt.orelse = _ending_blocks(stmt.body), _ending_blocks(stmt.orelse)
        out.append(stmt)
    return out


def _same_code(fn: ast.FunctionDef, code: types.CodeType) -> bool:
    """Whether the source compiles to the code the gate runs (the file may have changed)."""
    compiled = compile(ast.Module([fn], []), code.co_filename, "exec")
    own = [c for c in compiled.co_consts if isinstance(c, types.CodeType)]
    return len(own) == 1 and all(
        getattr(own[0], a) == getattr(code, a)
        for a in ("co_code", "co_consts", "co_names", "co_varnames", "co_argcount")
    )


CHAINED: Gate | None = chain(GATES)
"""The default gates as one function (None if they cannot be chained: the pipeline loops)."""
